using System.Globalization;

namespace XenVmc.Platform.Layout;

/// <summary>
/// XenVMC's XenStore layout (v1), as DESIGN.md lays it out. One place names every path so the
/// guest, Dom0 and the simulated host cannot drift apart.
/// </summary>
public static class XenVmcPaths
{
    public const string ProtocolVersion = "1";
    public const string Features = "vnet-hdr";
    public const string Ready = "ready";
    public const string Offered = "offered";
    public const string Connected = "connected";
    public const string Suspended = "suspended";

    public static string Domain(uint domid) => "/local/domain/" + domid.ToString(CultureInfo.InvariantCulture);

    /// <summary>Guest-owned: <c>ready</c> while the guest's daemon runs.</summary>
    public static string GuestState(uint domid) => Domain(domid) + "/data/xenvmc/state";

    /// <summary>Guest-owned, written by the toolstack: <c>suspend</c>, <c>poweroff</c>, <c>reboot</c> (libxl's shutdown request).</summary>
    public static string ShutdownRequest(uint domid) => Domain(domid) + "/control/shutdown";

    public static string GuestVersion(uint domid) => Domain(domid) + "/data/xenvmc/version";

    public static string GuestFeatures(uint domid) => Domain(domid) + "/data/xenvmc/features";

    /// <summary>Dom0-owned, readable by the guest only: the guest's peer table.</summary>
    public static string PeerTable(uint domid) => Domain(domid) + "/xenvmc/peers";

    /// <summary>Dom0-owned, readable by the guest only: co-resident guests it would pair with but Dom0's packet filter holds on the bridge.</summary>
    public static string Held(uint domid) => Domain(domid) + "/xenvmc/held";

    /// <summary>A short reason (the filter rule) why <paramref name="peer"/> is held.</summary>
    public static string HeldEntry(uint domid, uint peer) => Held(domid) + "/" + peer.ToString(CultureInfo.InvariantCulture);

    public static string PeerTableRoot(uint domid) => Domain(domid) + "/xenvmc";

    /// <summary>
    /// Dom0-owned, readable by the guest only: <c>self/ip</c>, the networks the guest itself is
    /// granted (the sources its peers admit from it), in the peer entries' format.
    /// </summary>
    public static string SelfEntry(uint domid) => PeerTableRoot(domid) + "/self";

    public static string PeerEntry(uint domid, uint peer) => PeerTable(domid) + "/" + peer.ToString(CultureInfo.InvariantCulture);

    /// <summary>The leaf of a peer entry (and of <c>self</c>) holding addresses and networks, in <see cref="PeerTableEntry.TryParseAddresses"/>'s format.</summary>
    public const string AddressesLeaf = "ip";

    /// <summary>The leaf of a peer entry holding the peer's eth0 MAC.</summary>
    public const string MacLeaf = "mac";

    /// <summary>Dom0 writes, the guest reads: <paramref name="peer"/>'s addresses and networks.</summary>
    public static string PeerAddresses(uint domid, uint peer) => PeerEntry(domid, peer) + "/" + AddressesLeaf;

    /// <summary>Dom0 writes, the guest reads: <paramref name="peer"/>'s MAC.</summary>
    public static string PeerMac(uint domid, uint peer) => PeerEntry(domid, peer) + "/" + MacLeaf;

    /// <summary>Dom0 writes, the guest reads: the networks the guest itself is granted.</summary>
    public static string SelfAddresses(uint domid) => SelfEntry(domid) + "/" + AddressesLeaf;

    /// <summary>Channel nodes <paramref name="owner"/> writes for <paramref name="peer"/>, readable by that peer only.</summary>
    public static string Channel(uint owner, uint peer) => Domain(owner) + "/data/xenvmc/channel/" + peer.ToString(CultureInfo.InvariantCulture);

    public static string Channels(uint owner) => Domain(owner) + "/data/xenvmc/channel";

    public static string VifBackends(uint backend = 0) => Domain(backend) + "/backend/vif";

    public static string VifBackend(uint backend, uint frontend, uint devid) =>
        VifBackends(backend) + "/" + frontend.ToString(CultureInfo.InvariantCulture) + "/" + devid.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses a domid path component; XenStore values are untrusted text.</summary>
    public static bool TryParseDomid(string text, out ushort domid)
    {
        domid = 0;
        if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit) || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        uint value = uint.Parse(text, CultureInfo.InvariantCulture);
        if (value >= 0x7FF0)
        {
            return false; // DOMID_FIRST_RESERVED and above are not domains.
        }

        domid = (ushort)value;
        return true;
    }
}
