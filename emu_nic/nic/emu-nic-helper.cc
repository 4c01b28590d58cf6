#include "emu-nic-helper.h"

#include "emu-nic-net-device.h"

#include "ns3/abort.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/point-to-point-channel.h"
#include "ns3/queue-size.h"
#include "ns3/queue.h"

namespace ns3
{

EmuNicHelper::EmuNicHelper()
{
    m_deviceFactory.SetTypeId("ns3::EmuNicNetDevice");
    m_channelFactory.SetTypeId("ns3::PointToPointChannel");
    m_queueFactory.SetTypeId("ns3::DropTailQueue<Packet>");
}

void
EmuNicHelper::SetDeviceAttribute(std::string name, const AttributeValue& value)
{
    m_deviceFactory.Set(name, value);
}

void
EmuNicHelper::SetChannelAttribute(std::string name, const AttributeValue& value)
{
    m_channelFactory.Set(name, value);
}

void
EmuNicHelper::SetQueueSize(std::string size)
{
    m_queueFactory.Set("MaxSize", QueueSizeValue(QueueSize(size)));
}

Ptr<NetDevice>
EmuNicHelper::InstallDevice(Ptr<Node> node)
{
    Ptr<EmuNicNetDevice> dev = m_deviceFactory.Create<EmuNicNetDevice>();
    dev->SetAddress(Mac48Address::Allocate());
    node->AddDevice(dev);
    dev->SetQueue(m_queueFactory.Create<Queue<Packet>>());
    // Let the traffic-control layer see the device queue, as PointToPointHelper does.
    Ptr<NetDeviceQueueInterface> queueInterface = CreateObject<NetDeviceQueueInterface>();
    queueInterface->GetTxQueue(0)->ConnectQueueTraces(dev->GetQueue());
    dev->AggregateObject(queueInterface);
    return dev;
}

NetDeviceContainer
EmuNicHelper::Install(Ptr<Node> a, Ptr<Node> b)
{
    Ptr<PointToPointNetDevice> devA = DynamicCast<PointToPointNetDevice>(InstallDevice(a));
    Ptr<PointToPointNetDevice> devB = DynamicCast<PointToPointNetDevice>(InstallDevice(b));
    Ptr<PointToPointChannel> channel = m_channelFactory.Create<PointToPointChannel>();
    devA->Attach(channel);
    devB->Attach(channel);
    NetDeviceContainer devices;
    devices.Add(devA);
    devices.Add(devB);
    return devices;
}

NetDeviceContainer
EmuNicHelper::Install(NodeContainer c)
{
    NS_ABORT_MSG_IF(c.GetN() != 2,
                    "EmuNicHelper::Install: a link needs exactly 2 nodes, got " << c.GetN());
    return Install(c.Get(0), c.Get(1));
}

void
EmuNicHelper::EnablePcapInternal(std::string prefix,
                                 Ptr<NetDevice> nd,
                                 bool promiscuous,
                                 bool explicitFilename)
{
    Ptr<EmuNicNetDevice> device = nd->GetObject<EmuNicNetDevice>();
    NS_ABORT_MSG_IF(!device,
                    "EmuNicHelper::EnablePcap: device " << nd->GetIfIndex()
                                                        << " is not an EmuNicNetDevice");
    PcapHelper pcapHelper;
    std::string filename =
        explicitFilename ? prefix : pcapHelper.GetFilenameFromDevice(prefix, device);
    Ptr<PcapFileWrapper> file = pcapHelper.CreateFile(filename, std::ios::out, PcapHelper::DLT_PPP);
    // The sniffer sees the wire: after the device's TX processing, before its RX processing.
    pcapHelper.HookDefaultSink<PointToPointNetDevice>(device, "PromiscSniffer", file);
}

} // namespace ns3
