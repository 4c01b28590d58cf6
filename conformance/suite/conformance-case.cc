// What conformance-case.h promises beyond the device: topology options and evidence files.
#include "conformance-case.h"

#include "emu-nic-helper.h"
#include "esp-sa-file.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"
#include "scenario-json.h"

#include <filesystem>

namespace conformance
{

using namespace offloadtest;
using namespace offloadlab;

std::string
ScapyMissingReason()
{
    std::string why;
    if (ScapyEspOracle::IsAvailable(&why) && ScapyPacketCrafter::IsAvailable(&why))
    {
        return "";
    }
    return why;
}

Bytes
ScapyUdpAToB(const Topology& t, const Bytes& data)
{
    Bytes ip;
    std::string error;
    EXPECT_TRUE(ScapyPacketCrafter::UdpDatagram(Dotted(t.hostAddrA),
                                                Dotted(t.hostAddrB),
                                                5555,
                                                kUdpPort,
                                                data,
                                                false,
                                                &ip,
                                                &error))
        << error;
    return ip;
}

TopologyOptions
OptionsOf(const Case& c)
{
    TopologyOptions opt;
    opt.mode = c.mode;
    opt.ipMode = c.ipMode;
    opt.esn = c.esn;
    opt.innerFamily = c.inner;
    opt.outerFamily = c.outer;
    opt.algorithmAB = AlgorithmOf(c.alg, 0x11);
    opt.algorithmBA = AlgorithmOf(c.alg, 0x77);
    return opt;
}

void
KeepPcap(const offloadtest::Topology& t, const std::string& name)
{
    const std::string dir = EvidenceDir();
    if (!dir.empty())
    {
        EmuNicHelper().EnablePcap(dir + "/" + name + ".pcap", t.devA, false, true);
        RecordEvidence("pcap_" + name, name + ".pcap");
    }
}

namespace
{
/// The keys of the SAs that send on the link as a Wireshark esp_sa table at path.
void
WriteKeys(const offloadtest::Topology& t, const std::string& path)
{
    offloadlab::EspSaFile keys;
    for (const auto& x : {t.outA, t.outB})
    {
        if (x)
        {
            keys.Add(EspSaEntryOf(x->GetConfig().saddr,
                                  x->GetConfig().daddr,
                                  x->GetSpi(),
                                  x->GetConfig().algorithm));
        }
    }
    keys.Write(path);
}
} // namespace

void
KeepKeys(const offloadtest::Topology& t, const std::string& name)
{
    const std::string dir = EvidenceDir();
    if (dir.empty())
    {
        return;
    }
    WriteKeys(t, dir + "/" + name);
    RecordEvidence(name, name);
}

namespace
{
/// Files KeepFailureEvidence made for the running test.
std::vector<std::string> g_failureEvidence;
} // namespace

void
KeepFailureEvidence(const offloadtest::Topology& t)
{
    const std::string dir = EvidenceDir();
    if (dir.empty())
    {
        return;
    }
    // Counted per test: the files of this test's earlier topologies are in the list.
    const std::string name = dir + "/topology-" + std::to_string(g_failureEvidence.size() / 2 + 1);
    EmuNicHelper().EnablePcap(name + ".pcap", t.devA, false, true);
    WriteKeys(t, name + ".esp_sa");
    g_failureEvidence.push_back(name + ".pcap");
    g_failureEvidence.push_back(name + ".esp_sa");
}

void
DropFailureEvidence(bool keep)
{
    if (!keep && !g_failureEvidence.empty())
    {
        std::error_code ec;
        const std::filesystem::path dir =
            std::filesystem::path(g_failureEvidence.front()).parent_path();
        for (const auto& file : g_failureEvidence)
        {
            std::filesystem::remove(file, ec);
        }
        // A passing test that kept nothing else leaves no folder behind.
        if (std::filesystem::is_empty(dir, ec))
        {
            std::filesystem::remove(dir, ec);
        }
    }
    g_failureEvidence.clear();
}

} // namespace conformance
