CREATE TABLE `boot_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node` text,
	`mac` text,
	`kind` text NOT NULL,
	`detail` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `boot_events_node_at` ON `boot_events` (`node`,`at`);--> statement-breakpoint
CREATE INDEX `boot_events_mac_at` ON `boot_events` (`mac`,`at`);--> statement-breakpoint
CREATE TABLE `discovered` (
	`mac` text PRIMARY KEY NOT NULL,
	`arch` text,
	`uuid` text,
	`vendor_class` text,
	`ip` text,
	`interface` text,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `leases` (
	`client_key` text PRIMARY KEY NOT NULL,
	`mac` text NOT NULL,
	`ip` text NOT NULL,
	`network` text,
	`node` text,
	`hostname` text,
	`state` text NOT NULL,
	`expires_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `leases_ip_unique` ON `leases` (`ip`);--> statement-breakpoint
CREATE INDEX `leases_mac` ON `leases` (`mac`);--> statement-breakpoint
CREATE TABLE `osimage_artifacts` (
	`osimage` text NOT NULL,
	`kind` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`file_name` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`osimage`, `kind`),
	FOREIGN KEY (`osimage`) REFERENCES `osimages`(`name`) ON UPDATE cascade ON DELETE cascade
);
