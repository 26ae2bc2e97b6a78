using System.Runtime.Versioning;

// Everything here runs against Linux: SOCK_SEQPACKET sockets, eventfds, shared-memory files, /proc/self/maps.
[assembly: SupportedOSPlatform("linux")]
