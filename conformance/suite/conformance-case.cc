// What conformance-case.h promises beyond the device: topology options and evidence files.
#include "conformance-case.h"

#include "esp-sa-file.h"

namespace conformance
{

using namespace offloadtest;

TopologyOptions
OptionsOf(const Case& c)
{
    TopologyOptions opt;
    opt.mode = c.mode;
    opt.ipMode = c.ipMode;
    opt.esn = c.esn;
    opt.algorithmAB = AlgorithmOf(c.alg, 0x11);
    opt.algorithmBA = AlgorithmOf(c.alg, 0x77);
    return opt;
}

void
KeepPcap(const Topology& t, const std::string& name)
{
    const std::string dir = EvidenceDir();
    if (!dir.empty())
    {
        EmuNicHelper().EnablePcap(dir + "/" + name + ".pcap", t.devA, false, true);
        RecordEvidence("pcap_" + name, name + ".pcap");
    }
}

void
KeepKeys(const Topology& t, const std::string& name)
{
    const std::string dir = EvidenceDir();
    if (dir.empty())
    {
        return;
    }
    EspSaFile keys;
    for (const auto& x : {t.outA, t.outB})
    {
        if (x)
        {
            keys.Add(x->GetConfig().saddr, x->GetConfig().daddr, x->GetSpi(),
                     x->GetConfig().algorithm);
        }
    }
    keys.Write(dir + "/" + name);
    RecordEvidence(name, name);
}

} // namespace conformance
