-- groxide's MariaDB/MySQL directory: grommunio's table and column names and
-- types for the part groxide uses. Names are ASCII and compare
-- case-insensitively, as in grommunio. Never run against a grommunio
-- database: groxide reads grommunio's tables as they are.
CREATE TABLE IF NOT EXISTS `servers` (
  `id` tinyint unsigned NOT NULL AUTO_INCREMENT,
  `hostname` varchar(255) CHARACTER SET ascii NOT NULL,
  `extname` varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  UNIQUE KEY `hostname` (`hostname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `domains` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `org_id` int unsigned NOT NULL DEFAULT 0,
  `domainname` varchar(64) CHARACTER SET ascii NOT NULL,
  `homedir` varchar(255) NOT NULL DEFAULT '',
  `max_user` int unsigned NOT NULL DEFAULT 0,
  `title` varchar(128) NOT NULL DEFAULT '',
  `domain_status` tinyint NOT NULL DEFAULT 0,
  `homeserver` tinyint unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `domainname` (`domainname`),
  KEY `homedir` (`homedir`),
  KEY `homeserver` (`homeserver`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `users` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `username` varchar(320) CHARACTER SET ascii NOT NULL,
  `password` varchar(136) CHARACTER SET ascii NOT NULL DEFAULT '',
  `domain_id` int unsigned NOT NULL,
  `group_id` int unsigned NOT NULL DEFAULT 0,
  `maildir` varchar(255) NOT NULL DEFAULT '',
  `lang` varchar(32) NOT NULL DEFAULT '',
  `timezone` varchar(64) NOT NULL DEFAULT '',
  `privilege_bits` int unsigned NOT NULL DEFAULT 0,
  `address_status` tinyint NOT NULL DEFAULT 0,
  `homeserver` tinyint unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  KEY `domain_id` (`domain_id`),
  KEY `maildir` (`maildir`),
  KEY `homeserver` (`homeserver`),
  CONSTRAINT `users_domain` FOREIGN KEY (`domain_id`) REFERENCES `domains` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `aliases` (
  `aliasname` varchar(320) CHARACTER SET ascii NOT NULL,
  `mainname` varchar(320) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (`aliasname`),
  KEY `mainname` (`mainname`),
  CONSTRAINT `aliases_user` FOREIGN KEY (`mainname`) REFERENCES `users` (`username`)
    ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `altnames` (
  `user_id` int unsigned NOT NULL,
  `altname` varchar(320) CHARACTER SET ascii NOT NULL,
  `magic` int unsigned NOT NULL DEFAULT 0,
  UNIQUE KEY `altname` (`altname`),
  KEY `user_id` (`user_id`),
  CONSTRAINT `altnames_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
