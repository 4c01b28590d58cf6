// Two hosts on one EmuNic link; the key manager sets up a transport-mode SA pair with packet
// offload; a UDP echo runs across it. Prints what the NIC did and its SA table.
//
//   build/emu_nic/emu-nic-packet-offload [--offload=packet|crypto|none] [--packets=N]
#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "ipsec-helper.h"
#include "ipsec-key-manager.h"
#include "reference-offload-engine.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <iostream>

using namespace ns3;

int
main(int argc, char* argv[])
{
    std::string offload = "packet";
    uint32_t packets = 10;
    CommandLine cmd(__FILE__);
    cmd.AddValue("offload", "none, crypto or packet", offload);
    cmd.AddValue("packets", "UDP echo requests to send", packets);
    cmd.Parse(argc, argv);
    const std::map<std::string, XfrmOffloadType> types = {{"none", XfrmOffloadType::None},
                                                          {"crypto", XfrmOffloadType::Crypto},
                                                          {"packet", XfrmOffloadType::Packet}};
    if (!types.count(offload))
    {
        std::cerr << "--offload: unknown value '" << offload << "' (none, crypto or packet)\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    NodeContainer hosts;
    hosts.Create(2);
    EmuNicHelper link;
    link.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    link.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer nics = link.Install(hosts);
    InternetStackHelper().Install(hosts);
    Ipv4AddressHelper addresses("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifaces = addresses.Assign(nics);
    IpsecHelper().Install(hosts); // after the internet stack and its addresses

    IpsecConnectionConfig connection;
    connection.name = "example";
    connection.mode = XfrmMode::Transport;
    connection.left = {hosts.Get(0),
                       ifaces.GetAddress(0),
                       ifaces.GetAddress(0),
                       32,
                       nics.Get(0),
                       types.at(offload)};
    connection.right = {hosts.Get(1),
                        ifaces.GetAddress(1),
                        ifaces.GetAddress(1),
                        32,
                        nics.Get(1),
                        types.at(offload)};
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    std::string error;
    if (!km->AddConnection(connection, &error))
    {
        std::cerr << "key manager: " << error << "\n";
        return 1;
    }

    UdpEchoServerHelper server(9);
    server.Install(hosts.Get(1)).Start(Seconds(0));
    UdpEchoClientHelper client(ifaces.GetAddress(1), 9);
    client.SetAttribute("MaxPackets", UintegerValue(packets));
    client.SetAttribute("Interval", TimeValue(MilliSeconds(10)));
    ApplicationContainer clientApp = client.Install(hosts.Get(0));
    clientApp.Start(Seconds(0.1));
    uint32_t echoed = 0;
    clientApp.Get(0)->TraceConnectWithoutContext(
        "Rx",
        MakeCallback(+[](uint32_t* n, Ptr<const Packet>) { ++*n; }).Bind(&echoed));

    Simulator::Stop(Seconds(1));
    Simulator::Run();

    Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(nics.Get(0));
    std::cout << "offload " << offload << ": " << echoed << " of " << packets
              << " echo requests answered\n";
    for (const auto& [name, value] : nic->GetCounters())
    {
        if (value != 0)
        {
            std::cout << "  hostA NIC " << name << " = " << value << "\n";
        }
    }
    if (ReferenceOffloadEngine* reference = ReferenceOffloadEngine::Of(nic))
    {
        std::cout << reference->Dump(); // only the reference's tables can be inspected
    }
    Simulator::Destroy();
    return echoed == packets ? 0 : 1;
}
