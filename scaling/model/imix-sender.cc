#include "imix-sender.h"

#include "ns3/inet-socket-address.h"
#include "ns3/packet.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(ImixSender);

std::vector<uint32_t>
ImixUdpPayloads(uint32_t innerMtu)
{
    const uint32_t large = std::min(1500u, innerMtu);
    std::vector<uint32_t> ip = {40, 40, 576, 40, 40, 576, 40, 576, 40, 40, 576, large};
    std::vector<uint32_t> payloads;
    for (uint32_t size : ip)
    {
        payloads.push_back(size - 28);
    }
    return payloads;
}

TypeId
ImixSender::GetTypeId()
{
    static TypeId tid = TypeId("ns3::ImixSender")
                            .SetParent<Application>()
                            .SetGroupName("Scaling")
                            .AddConstructor<ImixSender>();
    return tid;
}

void
ImixSender::Setup(Ptr<ScaleHost> host,
                  uint32_t flow,
                  InetSocketAddress remote,
                  std::vector<uint32_t> payloads,
                  uint32_t window)
{
    m_host = host;
    m_flow = flow;
    m_remote = remote;
    m_payloads = std::move(payloads);
    m_window = window;
}

void
ImixSender::StartApplication()
{
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    m_socket->Bind();
    m_socket->Connect(m_remote);
    m_running = true;
    m_host->SetUdpRoomCallback(m_flow, [this]() { SendWhileRoom(); });
    SendWhileRoom();
}

void
ImixSender::StopApplication()
{
    m_running = false;
    m_host->SetUdpRoomCallback(m_flow, nullptr);
    if (m_socket)
    {
        m_socket->Close();
    }
}

void
ImixSender::SendWhileRoom()
{
    while (m_running && m_host->GetUdpInFlight(m_flow) < m_window)
    {
        const uint32_t size = m_payloads[m_next++ % m_payloads.size()];
        if (m_socket->Send(Create<Packet>(size)) < 0)
        {
            return;
        }
    }
}

} // namespace ns3
