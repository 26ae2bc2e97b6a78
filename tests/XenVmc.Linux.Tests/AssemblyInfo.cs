using System.Runtime.Versioning;

// Everything here runs against the Linux kernel (TUN, rtnetlink, network namespaces, /dev/shm).
[assembly: SupportedOSPlatform("linux")]
