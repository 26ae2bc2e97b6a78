using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>One guest vif as the toolstack wrote it under <c>/local/domain/0/backend/vif/&lt;domid&gt;/&lt;devid&gt;</c>.</summary>
internal sealed record VifBackend(ushort Domid, uint Devid, string Bridge, IReadOnlyList<IpPrefix> Addresses, string Mac, bool Online, string VifName = "")
{
    /// <summary>The vif's network device in Dom0: the backend's <c>vifname</c>, else the toolstack's default <c>vif&lt;domid&gt;.&lt;devid&gt;</c>.</summary>
    public string Device => VifName.Length > 0 ? VifName : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"vif{Domid}.{Devid}");
}

/// <summary>What Dom0 knows about one guest when it decides who pairs with whom.</summary>
internal sealed record GuestInfo(ushort Domid, IReadOnlyList<VifBackend> Vifs, bool Introduced, bool Ready, string Name = "")
{
    public string DomidText => Domid.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
