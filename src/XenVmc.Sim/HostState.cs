using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XenVmc.Sim;

/// <summary>What <c>up</c> built, kept in host.json so status, down and the tests can find it.</summary>
internal sealed record HostState(bool Bypass, IReadOnlyList<GuestState> Guests, int NextDomid)
{
    /// <summary>A fresh domain id: a created, restored or migrated-in domain never reuses one.</summary>
    public (HostState State, int Domid) AllocateDomid() => (this with { NextDomid = NextDomid + 1 }, NextDomid);

    public HostState WithGuest(GuestState guest) => this with { Guests = [.. Guests.Select(g => g.Index == guest.Index ? guest : g)] };

    public GuestState Guest(string index) =>
        Guests.FirstOrDefault(g => g.Index.ToString(CultureInfo.InvariantCulture) == index)
        ?? throw new XenVmc.Platform.Hosting.UsageException($"no guest {index} (this host has {Guests.Count})");

    public static HostState? Load(SimPaths paths) =>
        File.Exists(paths.HostFile) ? JsonSerializer.Deserialize(File.ReadAllBytes(paths.HostFile), HostStateJson.Default.HostState) : null;

    public void Save(SimPaths paths) => File.WriteAllBytes(paths.HostFile, JsonSerializer.SerializeToUtf8Bytes(this, HostStateJson.Default.HostState));
}

/// <summary>Where a guest's domain is: on this host, migrated to the other one, or not running.</summary>
internal enum GuestLocation
{
    Local,
    Remote,
    Off,
}

/// <param name="Pod">The pod network behind the guest (<c>--pods</c>), or empty.</param>
/// <param name="Granted">Whether the pod network is in the vif's ip key (Dom0 grants it) or only routed.</param>
internal sealed record GuestState(int Index, int Domid, string Namespace, string Bridge, string Mac, string Ipv4, string Ipv6, GuestLocation Location = GuestLocation.Local, bool Pod = false, bool Granted = false)
{
    /// <summary>The pod's networks: 10.244.i.0/24 and fd00:244:i::/64; the guest is .1 / ::1 there, the pod .5 / ::5.</summary>
    public string PodIpv4Network => string.Create(CultureInfo.InvariantCulture, $"10.244.{Index}.0/24");

    public string PodIpv6Network => string.Create(CultureInfo.InvariantCulture, $"fd00:244:{Index:x}::/64");

    public string PodIpv4 => string.Create(CultureInfo.InvariantCulture, $"10.244.{Index}.5");

    public string PodIpv6 => string.Create(CultureInfo.InvariantCulture, $"fd00:244:{Index:x}::5");

    public string PodNamespace => SimPaths.NamespacePrefix + "p" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary>What the toolstack adds to the vif's ip key besides the guest's addresses.</summary>
    public string Networks => Pod && Granted ? $"{PodIpv4Network} {PodIpv6Network}" : "";

    /// <summary>The guest as the toolstack writes it into XenStore.</summary>
    public Toolstack.Guest ToToolstack() =>
        new(Domid, Namespace, Bridge, Mac, Ipv4, Ipv6, string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{Domid:x12}"), Networks);

    public static GuestState Create(int index, string bridge) => new(
        index,
        index,
        SimPaths.GuestNamespace(index),
        bridge,
        string.Create(CultureInfo.InvariantCulture, $"00:16:3e:00:00:{index:x2}"),
        string.Create(CultureInfo.InvariantCulture, $"198.18.0.{index}"),
        string.Create(CultureInfo.InvariantCulture, $"fd00:198:18::{index:x}"));
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(HostState))]
internal sealed partial class HostStateJson : JsonSerializerContext;
