//! Decimal number output without going through `fmt`, for the encoder's
//! hot path.

/// Appends `n` in decimal.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` in decimal.
pub(crate) fn write_u32(out: &mut Vec<u8>, n: u32) {
    write_u64(out, u64::from(n));
}

/// Appends `n` as exactly `width` digits, zero-padded (dates and times).
pub(crate) fn write_padded(out: &mut Vec<u8>, n: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = n;
    let mut i = buf.len();
    while v > 0 && i > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let digits = (buf.len() - i).max(width).min(buf.len());
    out.extend_from_slice(&buf[buf.len() - digits..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0u64, 7, 10, 99, 4_294_967_295, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn padded_numbers_keep_their_width() {
        let mut out = Vec::new();
        write_padded(&mut out, 7, 2);
        write_padded(&mut out, 0, 4);
        write_padded(&mut out, 1996, 4);
        write_padded(&mut out, 12345, 2);
        assert_eq!(out, b"070000199612345");
    }
}
