#include "wire-oracle.h"

#include "crafted-packets.h"
#include "emu-nic-net-device.h"
#include "scapy-esp-oracle.h"
#include "xfrm-state.h"

#include <map>
#include <memory>

namespace conformance
{

namespace
{
using namespace ns3;
using namespace offloadlab;

/// The oracle of the running case: one Scapy SA per state, packets counted.
class WireOracle : public testing::EmptyTestEventListener
{
  public:
    void OnTestStart(const testing::TestInfo&) override
    {
        m_sas.clear();
        m_checked = 0;
        m_reported = false;
    }

    void OnTestEnd(const testing::TestInfo&) override
    {
        if (m_checked > 0)
        {
            testing::Test::RecordProperty("wire_oracle_esp_packets", std::to_string(m_checked));
        }
        m_sas.clear(); // the states (and their devices) must not outlive the case
    }

    void Observe(Ptr<const Packet> packet, Ptr<XfrmState> x)
    {
        // ESP-in-UDP (RFC 3948): Scapy opens the ESP once the UDP header is out.
        const std::vector<uint8_t> bytes = WithoutUdpEncap(PacketBytes(packet));
        const uint32_t spi = bytes.size() >= 28 ? uint32_t(bytes[20]) << 24 | bytes[21] << 16 |
                                                      bytes[22] << 8 | bytes[23]
                                                : 0;
        if (!x)
        {
            ADD_FAILURE() << "wire oracle: the device sent ESP with SPI 0x" << std::hex << spi
                          << ", which names no outbound SA offloaded to it";
            return;
        }
        ScapyEspOracle* oracle = OracleFor(x);
        if (!oracle)
        {
            return;
        }
        const XfrmStateConfig& c = x->GetConfig();
        // The ESN high bits are the sender's, not on the wire: the state's, or one either side
        // (the device may be ahead of what the stack has read back, or a queued packet behind).
        const uint64_t base = std::max(x->GetLastSeq(), c.replayOseq);
        std::vector<uint32_t> candidates{uint32_t(base >> 32)};
        if (c.esn)
        {
            candidates.push_back(uint32_t(base >> 32) + 1);
            if (base >> 32)
            {
                candidates.push_back(uint32_t(base >> 32) - 1);
            }
        }
        std::string error;
        std::vector<uint8_t> inner;
        for (uint32_t seqHi : candidates)
        {
            if (oracle->Decrypt(bytes, seqHi, &inner, &error))
            {
                ++m_checked;
                return;
            }
        }
        ADD_FAILURE() << "wire oracle: an ESP packet of SPI 0x" << std::hex << spi << std::dec
                      << " (" << bytes.size()
                      << " bytes) does not decrypt with Scapy's ESP: " << error;
    }

  private:
    ScapyEspOracle* OracleFor(Ptr<XfrmState> x)
    {
        auto it = m_sas.find(x->GetSerial());
        if (it != m_sas.end())
        {
            return it->second.get();
        }
        const XfrmStateConfig& c = x->GetConfig();
        auto oracle = std::make_unique<ScapyEspOracle>(c.algorithm,
                                                       c.spi,
                                                       c.mode == XfrmMode::Tunnel,
                                                       c.saddr.ToString(),
                                                       c.daddr.ToString(),
                                                       c.esn);
        std::string error;
        if (!oracle->IsValid(&error))
        {
            if (!m_reported)
            {
                ADD_FAILURE() << "wire oracle: Scapy's ESP is not usable: " << error;
                m_reported = true;
            }
            return nullptr;
        }
        return (m_sas[x->GetSerial()] = std::move(oracle)).get();
    }

    std::map<uint64_t, std::unique_ptr<ScapyEspOracle>> m_sas;
    uint64_t m_checked{0};
    bool m_reported{false};
};

WireOracle* g_oracle = nullptr; //!< owned by GoogleTest's listener list

void
Observe(Ptr<const Packet> packet, Ptr<XfrmState> x)
{
    if (g_oracle)
    {
        g_oracle->Observe(packet, x);
    }
}
} // namespace

void
InstallWireOracle(testing::TestEventListeners& listeners)
{
    if (!g_oracle)
    {
        g_oracle = new WireOracle;
        listeners.Append(g_oracle);
    }
    EmuNicNetDevice::SetWireObserver(MakeCallback(&Observe));
}

} // namespace conformance
