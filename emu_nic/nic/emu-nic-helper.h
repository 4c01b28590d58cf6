#ifndef EMU_NIC_HELPER_H
#define EMU_NIC_HELPER_H

#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/object-factory.h"
#include "ns3/trace-helper.h"

#include <string>

namespace ns3
{

/**
 * Builds point-to-point links whose ends are EmuNicNetDevice (PointToPointHelper cannot choose
 * the device type). Pcap traces are PPP-framed, readable by tshark.
 */
class EmuNicHelper : public PcapHelperForDevice
{
  public:
    EmuNicHelper();
    void SetDeviceAttribute(std::string name, const AttributeValue& value);
    void SetChannelAttribute(std::string name, const AttributeValue& value);
    /// Queue type and size, e.g. SetQueueSize("100p").
    void SetQueueSize(std::string size);
    NetDeviceContainer Install(Ptr<Node> a, Ptr<Node> b);
    NetDeviceContainer Install(NodeContainer c);

  private:
    void EnablePcapInternal(std::string prefix,
                            Ptr<NetDevice> nd,
                            bool promiscuous,
                            bool explicitFilename) override;
    Ptr<NetDevice> InstallDevice(Ptr<Node> node);

    ObjectFactory m_deviceFactory;
    ObjectFactory m_channelFactory;
    ObjectFactory m_queueFactory;
};

} // namespace ns3

#endif // EMU_NIC_HELPER_H
