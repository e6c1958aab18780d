//! `cargo xtask bench groupware [--events N] [--contacts N] [--reps R]`:
//! import of a generated calendar (N events, 20 % of them recurring, some
//! series with a cancelled and a moved occurrence) and address book (vCard
//! 3.0 with photos-free realistic fields) into groxide through
//! `groxide-admin import` (release build, a real groxide-exmdb), items/s and
//! peak memory of both processes; free/busy of a year over that calendar
//! (`groxide-admin freebusy`, the RPC's own time); and Radicale (PyPI)
//! importing the same files through its own storage (a PUT of the whole
//! file on a new collection, the way its clients and its documentation
//! import) with its peak memory, and a CalDAV free-busy-query of the same
//! year, in the same run; a Radicale request that takes longer than
//! `--radicale-timeout` seconds (900) is reported as not done. `--debug` runs the harness on the debug
//! binaries (a smoke test; its figures mean nothing).

use crate::bench_common::{
    BenchBackends, build_release, cpu_seconds, free_port, median, run_ok, start_bench_node,
    wait_for,
};
use crate::proc::Supervisor;
use crate::{target_dir, workspace_root};
use anyhow::{Context as _, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Options {
    events: usize,
    contacts: usize,
    reps: usize,
    /// Use the debug binaries as built (a smoke run of the harness, no figures).
    debug: bool,
    /// Longest a Radicale request may take before it is reported as not done.
    radicale_timeout: u64,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        events: 10_000,
        contacts: 5_000,
        reps: 5,
        debug: false,
        radicale_timeout: 900,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value is missing");
        match a.as_str() {
            "--events" => o.events = value()?.parse().context("--events")?,
            "--contacts" => o.contacts = value()?.parse().context("--contacts")?,
            "--reps" => o.reps = value()?.parse().context("--reps")?,
            "--debug" => o.debug = true,
            "--radicale-timeout" => {
                o.radicale_timeout = value()?.parse().context("--radicale-timeout")?
            }
            other => bail!("bench groupware: unknown argument {other}"),
        }
    }
    Ok(o)
}

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n\
TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// A deterministic pseudo-random sequence (xorshift), so every run and
/// both servers get the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Day `d` of 2025 (0-based) as YYYYMMDD.
fn date_2025(d: u64) -> String {
    const DAYS: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut d = d % 365;
    let mut m = 0;
    while d >= DAYS[m] {
        d -= DAYS[m];
        m += 1;
    }
    format!("2025{:02}{:02}", m + 1, d + 1)
}

fn calendar(n: usize) -> String {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(n * 600);
    s.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//bench//EN\r\n");
    s.push_str(BERLIN);
    const DAYS: [&str; 5] = ["MO", "TU", "WE", "TH", "FR"];
    for i in 0..n {
        let day = r.below(365);
        let hour = 8 + r.below(9);
        let len = [30, 60, 90][r.below(3) as usize];
        let (eh, em) = (hour + (len / 60), len % 60);
        let date = date_2025(day);
        let uid = format!("bench-{i}@groxide.test");
        let _ = write!(
            s,
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n\
             DTSTART;TZID=Europe/Berlin:{date}T{hour:02}0000\r\n\
             DTEND;TZID=Europe/Berlin:{date}T{eh:02}{em:02}00\r\n\
             SUMMARY:Meeting {i} about topic {}\r\nLOCATION:Room {}\r\n\
             DESCRIPTION:Agenda for meeting {i}.\\nBring the numbers.\r\n",
            r.below(1000),
            r.below(40)
        );
        if i % 3 == 0 {
            let _ = write!(
                s,
                "ORGANIZER;CN=Anna:mailto:anna@bench.test\r\n\
                 ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Ben:mailto:ben@bench.test\r\n\
                 ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:p{i}@bench.test\r\n"
            );
        }
        let recurring = i % 5 == 0;
        let mut override_of = None;
        if recurring {
            let byday = DAYS[r.below(5) as usize];
            match i % 3 {
                0 => {
                    let _ = write!(s, "RRULE:FREQ=WEEKLY;BYDAY={byday};COUNT=20\r\n");
                }
                1 => {
                    let _ = write!(s, "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T000000Z\r\n");
                }
                _ => {
                    let _ = write!(s, "RRULE:FREQ=DAILY;INTERVAL=3\r\n");
                }
            }
            if i % 10 == 0 && i % 3 != 0 {
                // Cancel the second occurrence, move the third by two hours.
                let step = if i % 3 == 1 { 14 } else { 3 };
                let _ = write!(
                    s,
                    "EXDATE;TZID=Europe/Berlin:{}T{hour:02}0000\r\n",
                    date_2025(day + step)
                );
                override_of = Some((date_2025(day + 2 * step), hour));
            }
        }
        s.push_str("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\n");
        s.push_str("END:VEVENT\r\n");
        if let Some((d, h)) = override_of {
            let _ = write!(
                s,
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n\
                 RECURRENCE-ID;TZID=Europe/Berlin:{d}T{h:02}0000\r\n\
                 DTSTART;TZID=Europe/Berlin:{d}T{:02}0000\r\n\
                 DTEND;TZID=Europe/Berlin:{d}T{:02}3000\r\n\
                 SUMMARY:Meeting {i} (moved)\r\nEND:VEVENT\r\n",
                h + 2,
                h + 2
            );
        }
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn address_book(n: usize) -> String {
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    let given = [
        "Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo",
    ];
    let family = [
        "Schmidt", "Weber", "Vogel", "Fischer", "Wagner", "Becker", "Hoffmann",
    ];
    let mut s = String::with_capacity(n * 500);
    for i in 0..n {
        let g = given[r.below(given.len() as u64) as usize];
        let f = family[r.below(family.len() as u64) as usize];
        let _ = write!(
            s,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}@groxide.test\r\nN:{f};{g};;;\r\nFN:{g} {f} {i}\r\n\
             EMAIL;TYPE=INTERNET,WORK:{g}.{f}.{i}@work.test\r\nEMAIL;TYPE=INTERNET,HOME:{g}{i}@home.test\r\n\
             TEL;TYPE=WORK,VOICE:+49 30 {:07}\r\nTEL;TYPE=CELL:+49 170 {:07}\r\n\
             ADR;TYPE=WORK:;;Street {} ;Berlin;;{:05};Germany\r\nORG:Company {};Sales\r\nTITLE:Manager\r\n\
             BDAY:19{:02}-{:02}-{:02}\r\nNOTE:Met at the fair in {}.\r\nCATEGORIES:Customers,Berlin\r\nEND:VCARD\r\n",
            r.below(10_000_000),
            r.below(10_000_000),
            r.below(200),
            10_000 + r.below(89_999),
            r.below(500),
            50 + r.below(50),
            1 + r.below(12),
            1 + r.below(28),
            2000 + r.below(25)
        );
    }
    s
}

/// What [`timed`] measured of a client run.
struct Timed {
    secs: f64,
    /// Peak RSS in KiB, when GNU time is there.
    rss: Option<u64>,
    /// User + system CPU seconds, when GNU time is there (else NaN).
    cpu: f64,
    out: String,
}

/// Runs `cmd` under GNU time.
fn timed(cmd: &mut Command, what: &str) -> Result<Timed> {
    let report = std::env::temp_dir().join(format!("gx-bench-time-{}", std::process::id()));
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut wrapped = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M %U %S").arg("-o").arg(&report);
        c.arg(cmd.get_program()).args(cmd.get_args());
        c
    } else {
        let mut c = Command::new(cmd.get_program());
        c.args(cmd.get_args());
        c
    };
    let started = Instant::now();
    let out = run_ok(&mut wrapped, what)?;
    let secs = started.elapsed().as_secs_f64();
    let last = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| t.trim().lines().last().map(str::to_owned))
        .unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let f: Vec<&str> = last.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Ok(Timed {
        secs,
        rss: f.first().and_then(|v| v.parse().ok()),
        cpu: match (num(1), num(2)) {
            (Some(u), Some(s)) => u + s,
            _ => f64::NAN,
        },
        out,
    })
}

/// CPU seconds of groxide's daemons on the import path.
fn groxide_cpu(sup: &Supervisor) -> f64 {
    ["exmdb", "event"]
        .iter()
        .map(|n| sup.pid(n).map_or(0.0, |p| cpu_seconds(p, false)))
        .sum()
}

/// VmHWM (peak RSS, KiB) of a running process.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// One groxide node (event, exmdb) with the user `bench@bench.test`.
pub(crate) fn start_groxide(sup: &mut Supervisor, root: &Path, bin: &Path) -> Result<PathBuf> {
    let node = start_bench_node(sup, root, bin, BenchBackends::ExmdbOnly, "")?;
    let admin = |args: &[&str]| node.admin(args);
    admin(&["domain", "create", "bench.test"])?;
    admin(&["user", "create", "bench@bench.test", "--password", "pass"])?;
    Ok(node.config)
}

fn field_f64(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// Radicale on a free port with its own storage folder; returns its base URL.
pub(crate) fn start_radicale(sup: &mut Supervisor, root: &Path) -> Result<String> {
    let ok = Command::new("python3")
        .args(["-c", "import radicale"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!("Radicale is not installed: pip install radicale");
    }
    let port = free_port()?;
    let storage = root.join("radicale/collections");
    std::fs::create_dir_all(&storage)?;
    let mut c = Command::new("python3");
    c.args(["-m", "radicale", "--server-hosts"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--auth-type", "none", "--storage-filesystem-folder"])
        .arg(&storage)
        .args(["--logging-level", "warning"]);
    sup.spawn("radicale", c)?;
    wait_for(format!("127.0.0.1:{port}").parse()?, "radicale")?;
    Ok(format!("http://127.0.0.1:{port}"))
}

/// `curl` a request with a time limit; returns (seconds, HTTP status, body);
/// status 0 when it did not finish in time.
fn curl(timeout: u64, args: &[&str]) -> Result<(f64, u16, String)> {
    let started = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "-u", "bench:bench", "-w", "\n%{http_code}", "-m"])
        .arg(timeout.to_string())
        .args(args)
        .output()
        .context("running curl")?;
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    let secs = started.elapsed().as_secs_f64();
    let (body, code) = out.rsplit_once('\n').unwrap_or(("", "0"));
    Ok((secs, code.trim().parse().unwrap_or(0), body.to_string()))
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let bin = target_dir().join(if o.debug { "debug" } else { "release" });
    if !o.debug {
        build_release()?;
    }
    run_with(&o, &bin)
}

fn run_with(o: &Options, bin: &Path) -> Result<()> {
    let root = workspace_root().join("var/bench/groupware");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let ics = root.join("calendar.ics");
    let vcf = root.join("contacts.vcf");
    std::fs::write(&ics, calendar(o.events))?;
    std::fs::write(&vcf, address_book(o.contacts))?;
    let ics_len = std::fs::metadata(&ics)?.len();
    let vcf_len = std::fs::metadata(&vcf)?.len();
    println!(
        "files: {} events ({} recurring) {:.1} MB, {} contacts {:.1} MB",
        o.events,
        o.events / 5,
        ics_len as f64 / 1e6,
        o.contacts,
        vcf_len as f64 / 1e6
    );

    let mut sup = Supervisor::default();
    let result = (|| -> Result<()> {
        let cfg = start_groxide(&mut sup, &root, bin)?;
        let admin = |args: &[&str]| {
            let mut c = Command::new(bin.join("groxide-admin"));
            c.arg("--config-dir").arg(&cfg).arg("--json").args(args);
            c
        };
        let server_before = groxide_cpu(&sup);
        let ics_run = timed(
            &mut admin(&[
                "import",
                "ics",
                "bench@bench.test",
                ics.to_str().unwrap_or_default(),
                "--tz",
                "Europe/Berlin",
            ]),
            "groxide-admin import ics",
        )?;
        let ics_server = groxide_cpu(&sup) - server_before;
        let (ics_s, ics_rss) = (ics_run.secs, ics_run.rss);
        let v: serde_json::Value = serde_json::from_str(&ics_run.out).unwrap_or_default();
        let ics_items = field_f64(&v, "imported");
        let skipped = v["skipped"].as_array().map_or(0, Vec::len);
        let server_before = groxide_cpu(&sup);
        let vcf_run = timed(
            &mut admin(&[
                "import",
                "vcf",
                "bench@bench.test",
                vcf.to_str().unwrap_or_default(),
            ]),
            "groxide-admin import vcf",
        )?;
        let vcf_server = groxide_cpu(&sup) - server_before;
        let (vcf_s, vcf_rss) = (vcf_run.secs, vcf_run.rss);
        let v: serde_json::Value = serde_json::from_str(&vcf_run.out).unwrap_or_default();
        let vcf_items = field_f64(&v, "imported");
        let exmdb_rss = sup.pid("exmdb").and_then(peak_rss);
        let mut rpc_ms = Vec::new();
        let mut wall_ms = Vec::new();
        let mut slots = 0;
        for _ in 0..o.reps.max(1) {
            let fb = timed(
                &mut admin(&[
                    "freebusy",
                    "bench@bench.test",
                    "--from",
                    "2025-01-01",
                    "--to",
                    "2026-01-01",
                    "--tz",
                    "Europe/Berlin",
                ]),
                "groxide-admin freebusy",
            )?;
            let v: serde_json::Value = serde_json::from_str(&fb.out).unwrap_or_default();
            rpc_ms.push(field_f64(&v, "elapsed_ms"));
            wall_ms.push(fb.secs * 1000.0);
            slots = v["slots"].as_array().map_or(0, Vec::len);
        }
        println!(
            "groxide: ics {ics_items} items in {ics_s:.2} s = {:.0} items/s (admin peak {}), skipped {skipped}",
            ics_items / ics_s,
            mib(ics_rss)
        );
        println!(
            "groxide: vcf {vcf_items} items in {vcf_s:.2} s = {:.0} items/s (admin peak {})",
            vcf_items / vcf_s,
            mib(vcf_rss)
        );
        println!("groxide: exmdb peak {}", mib(exmdb_rss));
        // The importer (groxide-admin) converts iCalendar/vCard to items, so
        // its CPU is part of the work; Radicale's client (curl) only sends.
        println!(
            "groxide CPU ms per item: ics {:.2} in exmdb+event + {:.2} in the importer, vcf {:.2} + {:.2}",
            ics_server * 1000.0 / ics_items.max(1.0),
            ics_run.cpu * 1000.0 / ics_items.max(1.0),
            vcf_server * 1000.0 / vcf_items.max(1.0),
            vcf_run.cpu * 1000.0 / vcf_items.max(1.0)
        );
        println!(
            "groxide: free/busy of 2025: {slots} slots, {:.0} ms in exmdb (median of {}), {:.0} ms with the admin process",
            median(rpc_ms.clone()),
            o.reps,
            median(wall_ms.clone())
        );

        let base = start_radicale(&mut sup, &root)?;
        let radicale_cpu = || sup.pid("radicale").map_or(0.0, |p| cpu_seconds(p, false));
        let cpu_before = radicale_cpu();
        let (ics_r, code, body) = curl(
            o.radicale_timeout,
            &[
                "-X",
                "PUT",
                "-H",
                "Content-Type: text/calendar",
                "--data-binary",
                &format!("@{}", ics.display()),
                &format!("{base}/bench/calendar/"),
            ],
        )?;
        if code == 0 {
            println!(
                "radicale: the calendar PUT did not finish within {} s (--radicale-timeout)",
                o.radicale_timeout
            );
            return Ok(());
        }
        if code >= 300 {
            bail!("Radicale refused the calendar: {code} {body}");
        }
        let ics_radicale_cpu = radicale_cpu() - cpu_before;
        let cpu_before = radicale_cpu();
        let (vcf_r, code, body) = curl(
            o.radicale_timeout,
            &[
                "-X",
                "PUT",
                "-H",
                "Content-Type: text/vcard",
                "--data-binary",
                &format!("@{}", vcf.display()),
                &format!("{base}/bench/contacts/"),
            ],
        )?;
        if code == 0 {
            println!(
                "radicale: the address book PUT did not finish within {} s",
                o.radicale_timeout
            );
        } else if code >= 300 {
            bail!("Radicale refused the address book: {code} {body}");
        }
        let vcf_radicale_cpu = radicale_cpu() - cpu_before;
        let radicale_rss = sup.pid("radicale").and_then(peak_rss);
        let query = "<?xml version=\"1.0\"?><C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
                     <C:time-range start=\"20250101T000000Z\" end=\"20260101T000000Z\"/></C:free-busy-query>";
        let mut fb = Vec::new();
        let mut fb_code = 0;
        let mut fb_len = 0;
        for _ in 0..o.reps.max(1) {
            let (s, code, body) = curl(
                o.radicale_timeout,
                &[
                    "-X",
                    "REPORT",
                    "-H",
                    "Depth: 1",
                    "-H",
                    "Content-Type: application/xml",
                    "--data-binary",
                    query,
                    &format!("{base}/bench/calendar/"),
                ],
            )?;
            fb.push(s * 1000.0);
            fb_code = code;
            fb_len = body.matches("FREEBUSY").count();
        }
        println!(
            "radicale: ics {} items in {ics_r:.2} s = {:.0} items/s",
            o.events,
            o.events as f64 / ics_r
        );
        println!(
            "radicale: vcf {} items in {vcf_r:.2} s = {:.0} items/s",
            o.contacts,
            o.contacts as f64 / vcf_r
        );
        println!("radicale: peak {}", mib(radicale_rss));
        println!(
            "radicale CPU ms per item: ics {:.2}, vcf {:.2}",
            ics_radicale_cpu * 1000.0 / o.events as f64,
            vcf_radicale_cpu * 1000.0 / o.contacts as f64
        );
        if fb_code < 300 {
            println!(
                "radicale: free-busy-query of 2025: {:.0} ms (median of {}, HTTP {fb_code}, {fb_len} FREEBUSY lines)",
                median(fb.clone()),
                o.reps
            );
        } else {
            println!("radicale: free-busy-query answered HTTP {fb_code}");
        }
        Ok(())
    })();
    sup.stop_all(Duration::from_secs(5));
    result
}
