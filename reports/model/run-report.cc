#include "run-report.h"

#include "esp-sa-file.h"

#include <iomanip>
#include <set>
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
AddressString(Ipv4Address a)
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
            {"last_seq", sa.lastSeq},
            {"replay_drops", sa.stats.replayDrops},
            {"integrity_failures", sa.stats.integrityFailures},
            {"bad_padding", sa.stats.badPadding},
            {"truncated", sa.stats.truncated},
            {"seq_overflow", sa.stats.seqOverflow},
            {"expired_drops", sa.stats.expiredDrops},
        });
    }
    j["drops"]["stack"] = r.stackCounters;
    j["drops"]["nic"] = r.nicCounters;
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

std::string
EspSaFileOf(const std::vector<ScenarioResult>& results)
{
    EspSaFile file;
    for (const auto& r : results)
    {
        for (const auto& sa : r.sas)
        {
            const IpsecSaRecord& rec = sa.record;
            file.Add(rec.saddr, rec.daddr, rec.spi, rec.algorithm);
        }
    }
    return file.ToString();
}

std::string
SummaryTable(const std::vector<ScenarioResult>& results)
{
    std::ostringstream os;
    os << std::left << std::setw(24) << "scenario" << std::setw(8) << "mode" << std::right
       << std::setw(10) << "tcp Mb/s" << std::setw(10) << "udp Mb/s" << std::setw(11) << "udp loss"
       << std::setw(8) << "rekeys" << std::setw(6) << "SAs" << std::setw(8) << "drops"
       << std::setw(10) << "wall s" << std::setw(12) << "pkts/wall s"
       << "\n";
    for (const auto& r : results)
    {
        double tcp = 0;
        double udp = 0;
        uint64_t udpSent = 0;
        uint64_t udpDelivered = 0;
        for (const auto& t : r.traffic)
        {
            (t.protocol == "tcp" ? tcp : udp) = t.goodputMbps;
            if (t.protocol == "udp")
            {
                udpSent = t.packetsSent;
                udpDelivered = t.packetsDelivered;
            }
        }
        uint64_t drops = 0;
        for (const auto& [node, counters] : r.stackCounters)
        {
            for (const auto& [name, value] : counters)
            {
                drops += name.rfind("Xfrm", 0) == 0 ? value : 0;
            }
        }
        for (const auto& [dev, counters] : r.nicCounters)
        {
            for (const auto& [name, value] : counters)
            {
                drops +=
                    name.size() > 4 && name.compare(name.size() - 4, 4, "Drop") == 0 ? value : 0;
            }
        }
        std::ostringstream loss;
        loss << std::fixed << std::setprecision(2)
             << (udpSent ? 100.0 * double(udpSent - std::min(udpSent, udpDelivered)) / udpSent
                         : 0.0)
             << "%";
        os << std::left << std::setw(24) << r.scenario << std::setw(8) << r.mode << std::right
           << std::fixed << std::setprecision(1) << std::setw(10) << tcp << std::setw(10) << udp
           << std::setw(11) << loss.str() << std::setw(8) << r.rekeys << std::setw(6)
           << r.sas.size() << std::setw(8) << drops << std::setw(10) << std::setprecision(2)
           << r.wallSeconds << std::setw(12) << std::setprecision(0)
           << (r.wallSeconds > 0 ? r.wirePackets / r.wallSeconds : 0) << "\n";
    }
    return os.str();
}

} // namespace ns3
