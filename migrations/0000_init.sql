CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_unique` ON `api_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `groups` (
	`name` text PRIMARY KEY NOT NULL,
	`ip` text,
	`arch` text,
	`mgt` text,
	`bmc` text,
	`bmcport` text,
	`bmcusername` text,
	`bmcpassword_enc` text,
	`osimage` text,
	`currstate` text,
	`addkcmdline` text,
	`attrs` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `networks` (
	`name` text PRIMARY KEY NOT NULL,
	`net` text,
	`mask` text,
	`mgtifname` text,
	`gateway` text,
	`nameservers` text,
	`dynamicrange` text,
	`tftpserver` text,
	`domain` text,
	`mtu` text,
	`attrs` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `node_groups` (
	`node` text NOT NULL,
	`group` text NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`node`, `group`),
	FOREIGN KEY (`node`) REFERENCES `nodes`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_groups_group` ON `node_groups` (`group`);--> statement-breakpoint
CREATE TABLE `node_macs` (
	`mac` text PRIMARY KEY NOT NULL,
	`node` text NOT NULL,
	`position` integer NOT NULL,
	FOREIGN KEY (`node`) REFERENCES `nodes`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_macs_node` ON `node_macs` (`node`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`name` text PRIMARY KEY NOT NULL,
	`ip` text,
	`arch` text,
	`mgt` text,
	`bmc` text,
	`bmcport` text,
	`bmcusername` text,
	`bmcpassword_enc` text,
	`osimage` text,
	`currstate` text,
	`addkcmdline` text,
	`attrs` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_ip_unique` ON `nodes` (`ip`);--> statement-breakpoint
CREATE TABLE `osimages` (
	`name` text PRIMARY KEY NOT NULL,
	`provmethod` text,
	`osvers` text,
	`osarch` text,
	`profile` text,
	`pkglist` text,
	`otherpkglist` text,
	`exlist` text,
	`postinstall` text,
	`synclists` text,
	`addkcmdline` text,
	`attrs` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
