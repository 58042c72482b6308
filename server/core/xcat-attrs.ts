// Attribute names a real xCAT writes into stanza files that provd keeps as free-form attributes without comment.
export const KNOWN_XCAT_ATTRS = new Set([
  // node / group
  "os", "profile", "netboot", "installnic", "primarynic", "xcatmaster", "tftpserver", "tftpdir", "nfsserver",
  "nfsdir", "servicenode", "monserver", "serialport", "serialspeed", "serialflow", "cons", "conserver",
  "consoleondemand", "power", "status", "statustime", "appstatus", "appstatustime", "postscripts",
  "postbootscripts", "nodetype", "hwtype", "supportedarchs", "usercomment", "hostnames", "otherinterfaces",
  "nicips", "nictypes", "nicnetworks", "nichostnamesuffixes", "nicaliases", "routenames", "cpucount",
  "cputype", "memory", "disksize", "mtm", "serial", "id", "parent", "hcp", "hidden", "updatestatus",
  "updatestatustime", "zonename", "setupnameserver", "setupdhcp", "setuptftp", "setupnfs", "setupntp",
  "setupconserver", "setupldap", "setupipforward", "dhcpinterfaces", "chain", "chainruns", "currchain",
  "ondiscover", "proxydhcp", "kcmdline", "initrd", "kernel", "xcatdefaults", "domainadminuser", "vmhost",
  "vmstorage", "vmmemory", "vmcpus", "vmnics", "slotid", "rack", "unit", "room", "height", "slot", "chassis",
  "mpa", "side", "prescripts-begin", "prescripts-end", "grouptype", "wherevals", "members", "tags",
  // osimage
  "imagetype", "osname", "osdistroname", "osupdatename", "rootimgdir", "pkgdir", "otherpkgdir", "kernelver",
  "krpmver", "netdrivers", "permission", "template", "driverupdatesrc", "environvar", "partitionfile",
  "usercomment", "imagename", "boottarget", "description", "exlist", "nodebootif", "otherifce",
  // network
  "dhcpserver", "ntpservers", "logservers", "staticrange", "staticrangeincrement", "nodehostname", "ddnsdomain",
  "vlanid", "mgtifname",
]);
