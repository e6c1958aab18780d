-- groxide's SQLite directory: grommunio's table and column names for the
-- part groxide uses. Names compare case-insensitively, as in grommunio's
-- MySQL collations.
CREATE TABLE IF NOT EXISTS servers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hostname TEXT NOT NULL COLLATE NOCASE UNIQUE,
  extname TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS domains (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL DEFAULT 0,
  domainname TEXT NOT NULL COLLATE NOCASE UNIQUE,
  homedir TEXT NOT NULL DEFAULT '',
  max_user INTEGER NOT NULL DEFAULT 0,
  title TEXT NOT NULL DEFAULT '',
  domain_status INTEGER NOT NULL DEFAULT 0,
  homeserver INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS domains_homedir ON domains (homedir);
CREATE INDEX IF NOT EXISTS domains_homeserver ON domains (homeserver);

CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password TEXT NOT NULL DEFAULT '',
  domain_id INTEGER NOT NULL REFERENCES domains (id),
  group_id INTEGER NOT NULL DEFAULT 0,
  maildir TEXT NOT NULL DEFAULT '',
  lang TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT '',
  privilege_bits INTEGER NOT NULL DEFAULT 0,
  address_status INTEGER NOT NULL DEFAULT 0,
  homeserver INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS users_domain_id ON users (domain_id);
CREATE INDEX IF NOT EXISTS users_maildir ON users (maildir);
CREATE INDEX IF NOT EXISTS users_homeserver ON users (homeserver);

CREATE TABLE IF NOT EXISTS aliases (
  aliasname TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
  mainname TEXT NOT NULL COLLATE NOCASE
    REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX IF NOT EXISTS aliases_mainname ON aliases (mainname);

CREATE TABLE IF NOT EXISTS altnames (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  altname TEXT NOT NULL COLLATE NOCASE UNIQUE,
  magic INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS altnames_user_id ON altnames (user_id);
