CREATE TABLE `build_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`osimage` text NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`stage` text NOT NULL,
	`request` text NOT NULL,
	`version` text,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE TABLE `image_alias_history` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`osimage` text NOT NULL,
	`alias` text NOT NULL,
	`version` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `image_alias_history_alias` ON `image_alias_history` (`osimage`,`alias`,`seq`);--> statement-breakpoint
CREATE TABLE `image_aliases` (
	`osimage` text NOT NULL,
	`alias` text NOT NULL,
	`version` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`osimage`, `alias`),
	FOREIGN KEY (`osimage`) REFERENCES `osimages`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `image_versions` (
	`osimage` text NOT NULL,
	`id` text NOT NULL,
	`input_hash` text NOT NULL,
	`origin` text NOT NULL,
	`parent` text,
	`manifest` text NOT NULL,
	`validation` text NOT NULL,
	`validation_log` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`osimage`, `id`),
	FOREIGN KEY (`osimage`) REFERENCES `osimages`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `image_versions_input` ON `image_versions` (`osimage`,`input_hash`);--> statement-breakpoint
CREATE TABLE `osimage_files` (
	`osimage` text NOT NULL,
	`path` text NOT NULL,
	`content` blob NOT NULL,
	`mode` integer NOT NULL,
	PRIMARY KEY(`osimage`, `path`),
	FOREIGN KEY (`osimage`) REFERENCES `osimages`(`name`) ON UPDATE cascade ON DELETE cascade
);
