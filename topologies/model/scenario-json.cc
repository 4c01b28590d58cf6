#include "scenario-json.h"

#include <iomanip>
#include <sstream>

namespace ns3
{

namespace
{
std::string
SpiHex(uint32_t spi)
{
    std::ostringstream os;
    os << "0x" << std::hex << std::setw(8) << std::setfill('0') << spi;
    return os.str();
}

std::string
AddressString(const XfrmAddress& a)
{
    std::ostringstream os;
    os << a;
    return os.str();
}

std::string
AlgorithmName(const EspAlgorithm& a)
{
    std::string name = a.EncName() + "/" + std::to_string(a.encKey.size() * 8);
    if (!a.AuthName().empty())
    {
        name += "+" + a.AuthName();
    }
    return name;
}

using CountersByName = std::map<std::string, std::map<std::string, uint64_t>>;

nlohmann::json
Merged(const CountersByName& drops, const CountersByName& events)
{
    nlohmann::json all = nlohmann::json::object();
    for (const CountersByName* part : {&drops, &events})
    {
        for (const auto& [owner, counters] : *part)
        {
            for (const auto& [name, value] : counters)
            {
                all[owner][name] = value;
            }
        }
    }
    return all;
}
} // namespace

nlohmann::json
ScenarioResultToJson(const ScenarioResult& r)
{
    nlohmann::json j;
    j["scenario"] = r.scenario;
    j["mode"] = r.mode;
    j["simulated_seconds"] = r.simulatedSeconds;
    j["wall_seconds"] = r.wallSeconds;
    j["wire_packets"] = r.wirePackets;
    j["simulated_packets_per_wall_second"] =
        r.wallSeconds > 0 ? double(r.wirePackets) / r.wallSeconds : 0.0;
    j["traffic"] = nlohmann::json::object();
    for (const auto& t : r.traffic)
    {
        nlohmann::json tj;
        if (t.protocol == "udp")
        {
            tj["packets_sent"] = t.packetsSent;
        }
        tj["packets_delivered"] = t.packetsDelivered;
        tj["bytes_delivered"] = t.bytesDelivered;
        tj["goodput_mbps"] = t.goodputMbps;
        if (t.protocol == "tcp")
        {
            tj["pmtu_adaptations"] = t.pmtuAdaptations;
        }
        j["traffic"][t.protocol] = tj;
    }
    j["sas"] = nlohmann::json::array();
    for (const auto& sa : r.sas)
    {
        const IpsecSaRecord& rec = sa.record;
        j["sas"].push_back({
            {"connection", rec.connection},
            {"generation", rec.generation},
            {"node", sa.nodeName},
            {"direction", rec.direction},
            {"spi", SpiHex(rec.spi)},
            {"saddr", AddressString(rec.saddr)},
            {"daddr", AddressString(rec.daddr)},
            {"mode", XfrmModeName(rec.mode)},
            {"algorithm", AlgorithmName(rec.algorithm)},
            {"esn", rec.esn},
            {"offload_requested", XfrmOffloadTypeName(rec.offloadRequested)},
            {"offload", XfrmOffloadTypeName(rec.offloadActual)},
            {"installed_at_s", rec.installed.GetSeconds()},
            {"alive_at_end", rec.alive},
            {"bytes", sa.current.bytes},
            {"packets", sa.current.packets},
            // Linux's curlft.use_time: null while the SA has carried nothing.
            {"first_use_s",
             sa.current.used ? nlohmann::json(sa.current.useTime.GetSeconds()) : nlohmann::json()},
            {"last_seq", sa.lastSeq},
            {"replay_drops", sa.stats.replayDrops},
            {"integrity_failures", sa.stats.integrityFailures},
            {"bad_padding", sa.stats.badPadding},
            {"truncated", sa.stats.truncated},
            {"seq_overflow", sa.stats.seqOverflow},
            {"expired_drops", sa.stats.expiredDrops},
        });
    }
    // One object per node or NIC with its drop and event counters (results.json's layout).
    j["drops"]["stack"] = Merged(r.stackDrops, r.stackEvents);
    j["drops"]["nic"] = Merged(r.nicDrops, r.nicEvents);
    j["drops"]["queue"] = r.queueDrops;
    if (r.nat)
    {
        j["drops"]["nat"] = r.natDrops;
        j["nat"] = {{"translated", r.natTranslated},
                    {"udp_mappings", r.natUdpMappings},
                    {"tcp_mappings", r.natTcpMappings}};
    }
    j["rekeys"] = r.rekeys;
    j["events"] = nlohmann::json::array();
    for (const auto& e : r.events)
    {
        j["events"].push_back({{"time_s", e.time.GetSeconds()},
                               {"connection", e.connection},
                               {"kind", e.kind},
                               {"node_id", e.nodeId},
                               {"spi", SpiHex(e.spi)},
                               {"detail", e.detail}});
    }
    j["pcaps"] = r.pcaps;
    return j;
}

offloadlab::EspSaEntry
EspSaEntryOf(const XfrmAddress& saddr,
             const XfrmAddress& daddr,
             uint32_t spi,
             const EspAlgorithm& algorithm)
{
    offloadlab::EspSaEntry e;
    e.saddr = AddressString(saddr);
    e.daddr = AddressString(daddr);
    e.spi = spi;
    e.gcm = algorithm.suite == EspAlgorithm::Suite::AesGcm;
    e.encKey = algorithm.encKey;
    if (e.gcm)
    {
        // Wireshark wants key || salt for GCM.
        e.encKey.insert(e.encKey.end(), algorithm.salt.begin(), algorithm.salt.end());
    }
    e.authKey = algorithm.authKey;
    return e;
}

std::vector<offloadlab::EspSaEntry>
EspSaEntriesOf(const ScenarioResult& result)
{
    std::vector<offloadlab::EspSaEntry> entries;
    for (const auto& sa : result.sas)
    {
        const IpsecSaRecord& rec = sa.record;
        entries.push_back(EspSaEntryOf(rec.saddr, rec.daddr, rec.spi, rec.algorithm));
    }
    return entries;
}

} // namespace ns3
