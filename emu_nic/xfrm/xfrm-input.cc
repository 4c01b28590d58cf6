// XfrmStack's input (Linux's xfrm_input and __xfrm_policy_check): ESP for this node is checked
// against replay and lifetime, decrypted (or its device's CRYPTO_DONE status taken), stripped
// and delivered; plaintext and forwarded traffic meet the inbound and forward policies.
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-stack.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmInput");

bool
XfrmStack::InputUdpEncap(Ptr<Packet> datagram,
                         const Ipv4Header& header,
                         Ptr<Ipv4Interface> incomingInterface)
{
    // Linux's __xfrm4_udp_encap_rcv for UDP_ENCAP_ESPINUDP.
    uint8_t head[16] = {};
    const uint32_t size = datagram->GetSize();
    datagram->CopyData(head, std::min<uint32_t>(size, sizeof(head)));
    const uint32_t udpLength = uint32_t(head[4]) << 8 | head[5];
    if (udpLength < 8 || udpLength > size)
    {
        return false; // not a valid UDP datagram: UDP drops it
    }
    const uint16_t checksum = uint16_t(head[6] << 8 | head[7]);
    if (checksum != 0)
    {
        // RFC 3948 2.1: a receiver must not depend on a zero checksum; Linux checks a non-zero
        // one (udp_lib_checksum_complete) for every datagram to the socket, before encap_rcv.
        std::vector<uint8_t> bytes(udpLength);
        datagram->CopyData(bytes.data(), udpLength);
        bytes[6] = bytes[7] = 0;
        uint16_t expected = L4Checksum(header.GetSource(),
                                       header.GetDestination(),
                                       kIpProtoUdp,
                                       bytes.data(),
                                       udpLength);
        if (expected != checksum)
        {
            NS_LOG_LOGIC("UDP to an encapsulation port from " << header.GetSource()
                                                              << ": bad checksum");
            Drop(XfrmDrop::UdpInCsumErrors, datagram);
            return true;
        }
    }
    const uint32_t len = udpLength - 8;
    const uint8_t* data = head + 8;
    if (len == 1 && data[0] == 0xff)
    {
        Count(XfrmEvent::UdpEncapKeepalives); // RFC 3948 2.3: a NAT keepalive, eaten
        return true;
    }
    const bool esp =
        len > EspTransform::kHeaderLength && (data[0] | data[1] | data[2] | data[3]) != 0;
    if (!esp)
    {
        Count(XfrmEvent::UdpEncapToSocket); // RFC 3948 2.2: the non-ESP marker, IKE
        return false;
    }
    Ptr<Packet> espPacket = datagram->CreateFragment(8, udpLength - 8);
    Count(XfrmEvent::UdpEncapRxPackets);
    InputEsp(espPacket,
             header,
             incomingInterface,
             XfrmEncapType::EspInUdp,
             uint16_t(head[0] << 8 | head[1]));
    return true;
}

Ptr<XfrmState>
XfrmStack::OpenEsp(Ptr<Packet> packet,
                   const XfrmAddress& daddr,
                   XfrmEncapType encap,
                   uint32_t* offsetOut,
                   uint32_t* lengthOut,
                   uint8_t* nextHeaderOut)
{
    const uint32_t length = packet->GetSize();
    if (length < EspTransform::kHeaderLength)
    {
        Drop(XfrmDrop::InHdrError, packet);
        return nullptr;
    }
    CopyPacketBytes(packet, m_frame);
    uint8_t* frame = m_frame.data();
    const uint32_t spi = EspTransform::ReadSpi(frame);
    Ptr<XfrmState> x = m_sad.Find(daddr, spi);
    if (!x)
    {
        NS_LOG_LOGIC("no state for SPI 0x" << std::hex << spi << std::dec << " to " << daddr);
        Drop(XfrmDrop::InNoStates, packet);
        return nullptr;
    }
    if (x->GetConfig().encap.type != encap)
    {
        // xfrm_input: the packet must come as the SA says, in UDP or not.
        NS_LOG_LOGIC("SPI 0x" << std::hex << spi << std::dec << ": ESP "
                              << (encap == XfrmEncapType::None ? "without" : "in")
                              << " UDP for an SA that says otherwise");
        Drop(XfrmDrop::InStateMismatch, packet);
        return nullptr;
    }
    if (x->IsOffloaded(XfrmOffloadType::Packet))
    {
        // Its device would have decapsulated it; packet offload has no software path.
        Drop(XfrmDrop::InStateMismatch, packet);
        return nullptr;
    }
    const XfrmStateConfig& c = x->GetConfig();
    XfrmOffloadRxTag rxTag;
    const bool cryptoDone =
        packet->PeekPacketTag(rxTag) && rxTag.nodeId == m_node->GetId() && rxTag.spi == spi;
    if (cryptoDone && rxTag.status != EspStatus::Ok)
    {
        // Linux xfrm_input: a CRYPTO_DONE without CRYPTO_SUCCESS is dropped before the replay
        // check, so a replayed packet with a bad ICV is an integrity failure, not a replay.
        NS_LOG_LOGIC("SPI 0x" << std::hex << spi << std::dec << ": device status "
                              << EspStatusName(rxTag.status));
        if (rxTag.status == EspStatus::AuthFailed)
        {
            ++x->GetStats().integrityFailures; // CRYPTO_*_ESP_AUTH_FAILED
            Drop(XfrmDrop::InStateProtoError, packet);
        }
        else
        {
            Drop(XfrmDrop::InBufferError, packet); // CRYPTO_INVALID_PACKET_SYNTAX and the rest
        }
        return nullptr;
    }
    uint64_t seq = 0;
    const ReplayVerdict verdict = x->GetReplayWindow().Check(EspTransform::ReadSeqLow(frame), &seq);
    if (verdict != ReplayVerdict::Ok)
    {
        NS_LOG_LOGIC("SPI 0x" << std::hex << spi << std::dec << ": sequence number "
                              << EspTransform::ReadSeqLow(frame) << " "
                              << ReplayVerdictName(verdict));
        // xfrm_replay_check: replay_window for too old, replay for a duplicate, neither for 0.
        XfrmStateStats& stats = x->GetStats();
        stats.replayDrops += verdict == ReplayVerdict::ZeroSeq ? 0 : 1;
        stats.replayWindow += verdict == ReplayVerdict::TooOld ? 1 : 0;
        Drop(XfrmDrop::InStateSeqError, packet);
        return nullptr;
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmDrop::InStateExpired, packet);
        return nullptr;
    }

    uint32_t& offset = *offsetOut;
    uint32_t& payloadLength = *lengthOut;
    uint8_t& nextHeader = *nextHeaderOut;
    EspStatus status;
    if (cryptoDone)
    {
        // The device decrypted in place and checked the ICV; the stack strips the trailer
        // (esp_input_tail).
        Count(XfrmEvent::CryptoOffloadRxPackets);
        status =
            x->GetTransform().ParseTrailer(frame, length, &offset, &payloadLength, &nextHeader);
    }
    else
    {
        status = x->GetTransform().Decapsulate(frame,
                                               length,
                                               uint32_t(seq >> 32),
                                               c.esn,
                                               &offset,
                                               &payloadLength,
                                               &nextHeader);
    }
    if (status != EspStatus::Ok)
    {
        NS_LOG_LOGIC("SPI 0x" << std::hex << spi << std::dec << ": " << EspStatusName(status));
        if (status == EspStatus::AuthFailed)
        {
            ++x->GetStats().integrityFailures; // esp_input's -EBADMSG
        }
        // Trailer and length errors have no per-SA counter in Linux, only this MIB one.
        Drop(XfrmDrop::InStateProtoError, packet);
        return nullptr;
    }
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    if (tunnel && !IsWholeIpv4Packet(frame + offset, payloadLength, nextHeader) &&
        !(m_ipv6 && IsWholeIpv6Packet(frame + offset, payloadLength, nextHeader)))
    {
        // Linux: the inner header must be there (pskb_may_pull in the mode's input); an IPv6
        // one only where the node has IPv6.
        Drop(XfrmDrop::InStateProtoError, packet);
        return nullptr;
    }
    x->GetReplayWindow().Advance(seq);
    if (c.esn && x->IsOffloaded(XfrmOffloadType::Crypto))
    {
        x->GetOffload().ops->StateAdvanceEsn(x);
    }
    // Linux xfrm_input counts skb->len after the type's input: what ESP carried (the L4 segment,
    // or the inner packet in tunnel mode), without the outer header.
    x->GetCurrent().Count(payloadLength, Simulator::Now());
    return x;
}

IpL4Protocol::RxStatus
XfrmStack::InputEsp(Ptr<Packet> packet,
                    const Ipv4Header& header,
                    Ptr<Ipv4Interface> incomingInterface,
                    XfrmEncapType encap,
                    uint16_t encapSport)
{
    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
    Ptr<XfrmState> x =
        OpenEsp(packet, header.GetDestination(), encap, &offset, &payloadLength, &nextHeader);
    if (!x)
    {
        return IpL4Protocol::RX_OK;
    }
    const XfrmStateConfig& c = x->GetConfig();
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    const uint32_t spi = c.spi;
    uint8_t* frame = m_frame.data();
    if (encap != XfrmEncapType::None)
    {
        // esp_input_done2: a peer behind a NAT that moved (address or port) is news for IKE
        // (km_new_mapping, XFRM_MSG_MAPPING).
        if (header.GetSource() != c.saddr || encapSport != c.encap.sport)
        {
            NS_LOG_INFO("SPI 0x" << std::hex << spi << std::dec << ": NAT mapping now "
                                 << header.GetSource() << ":" << encapSport);
            Count(XfrmEvent::UdpEncapNewMapping);
            if (!m_mappingCallback.IsNull())
            {
                m_mappingCallback(x, XfrmAddress(header.GetSource()), encapSport);
            }
        }
        if (!tunnel)
        {
            // RFC 3948 3.1.2: after a NAT the inner TCP/UDP checksum covers the original
            // addresses; Linux skips checking it (CHECKSUM_UNNECESSARY), the ICV vouches for the
            // segment. ns-3's L4 checks it, so it is recomputed for the addresses it arrived with.
            FixTransportChecksum(header.GetSource(),
                                 header.GetDestination(),
                                 nextHeader,
                                 frame + offset,
                                 payloadLength);
        }
    }
    Ptr<Packet> inner = Create<Packet>(frame + offset, payloadLength);
    if (tunnel)
    {
        ReinjectInner(x, inner, nextHeader, incomingInterface->GetDevice());
        return IpL4Protocol::RX_OK;
    }
    Ipv4Header innerHeader = header;
    innerHeader.SetProtocol(nextHeader);
    innerHeader.SetPayloadSize(payloadLength);
    return DeliverTransport(x, inner, innerHeader, incomingInterface);
}

void
XfrmStack::ReinjectInner(Ptr<XfrmState> x,
                         Ptr<Packet> inner,
                         uint8_t nextHeader,
                         Ptr<NetDevice> device)
{
    XfrmSecPathTag secpath;
    secpath.nodeId = m_node->GetId();
    secpath.spi = x->GetConfig().spi;
    secpath.daddr = x->GetConfig().daddr;
    inner->AddPacketTag(secpath);
    // Re-inject the inner packet: routing and the inbound policy check see it next.
    if (nextHeader == kIpProtoIpv6)
    {
        m_ipv6
            ->Receive(device, inner, kEtherTypeIpv6, Address(), Address(), NetDevice::PACKET_HOST);
        return;
    }
    m_ipv4->Receive(device, inner, kEtherTypeIpv4, Address(), Address(), NetDevice::PACKET_HOST);
}

void
XfrmStack::FixTransportChecksum(Ipv4Address src,
                                Ipv4Address dst,
                                uint8_t proto,
                                uint8_t* segment,
                                uint32_t length)
{
    const uint32_t field = proto == kIpProtoTcp ? 16 : proto == kIpProtoUdp ? 6 : 0;
    if (field == 0 || length < field + 2)
    {
        return;
    }
    if (proto == kIpProtoUdp && segment[field] == 0 && segment[field + 1] == 0)
    {
        return; // a UDP checksum of 0 means none (RFC 768)
    }
    segment[field] = segment[field + 1] = 0;
    const uint16_t sum = L4Checksum(src, dst, proto, segment, length);
    segment[field] = uint8_t(sum >> 8);
    segment[field + 1] = uint8_t(sum);
}

IpL4Protocol::RxStatus
XfrmStack::DeliverTransport(Ptr<XfrmState> x,
                            Ptr<Packet> payload,
                            Ipv4Header header,
                            Ptr<Ipv4Interface> incomingInterface)
{
    const XfrmFlow flow = FlowOf(header, payload);
    if (!x->GetConfig().sel.Matches(flow))
    {
        // Linux __xfrm_policy_check: "First, check used SA against their selectors".
        Drop(XfrmDrop::InStateMismatch, payload);
        return IpL4Protocol::RX_OK;
    }
    Ptr<XfrmPolicy> policy = LookupPolicy(XfrmDir::In, flow);
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::InPolBlock, payload);
        return IpL4Protocol::RX_OK;
    }
    if (policy && policy->RequiresIpsec() && !policy->TemplateMatches(*x))
    {
        Drop(XfrmDrop::InTmplMismatch, payload);
        return IpL4Protocol::RX_OK;
    }
    const int32_t interface = m_ipv4->GetInterfaceForDevice(incomingInterface->GetDevice());
    Ptr<IpL4Protocol> l4 = m_ipv4->GetProtocol(header.GetProtocol(), interface);
    if (!l4)
    {
        return IpL4Protocol::RX_ENDPOINT_UNREACH;
    }
    return l4->Receive(payload, header, incomingInterface);
}

bool
XfrmStack::InboundPolicyAllows(XfrmDir dir, const XfrmFlow& flow, Ptr<const Packet> packet)
{
    XfrmSecPathTag secpath;
    const bool hasSecpath = packet->PeekPacketTag(secpath) && secpath.nodeId == m_node->GetId();
    if (hasSecpath && secpath.packetOffload)
    {
        return true; // the device checked its own policy; XFRM is bypassed
    }
    Ptr<XfrmPolicy> policy = LookupPolicy(dir, flow);
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::InPolBlock, packet);
        return false;
    }
    if (!hasSecpath)
    {
        if (policy && policy->RequiresIpsec())
        {
            Drop(XfrmDrop::InTmplMismatch, packet);
            return false;
        }
        return true;
    }
    // The SA that carried it must still exist (re-injection is synchronous, so it does unless
    // something is wrong: fail closed) and its selector must match what it carried.
    Ptr<XfrmState> x = m_sad.Find(secpath.daddr, secpath.spi);
    if (!x || !x->GetConfig().sel.Matches(flow))
    {
        Drop(XfrmDrop::InStateMismatch, packet);
        return false;
    }
    if (!policy)
    {
        // __xfrm_policy_check: without a policy only transport-mode SAs may have carried it
        // (secpath_has_nontransport).
        if (x->GetConfig().mode == XfrmMode::Transport)
        {
            return true;
        }
        Drop(XfrmDrop::InNoPols, packet);
        return false;
    }
    if (policy->RequiresIpsec() && !policy->TemplateMatches(*x))
    {
        Drop(XfrmDrop::InTmplMismatch, packet);
        return false;
    }
    return true;
}

bool
XfrmStack::InputHook(Ptr<const Packet> packet, const Ipv4Header& header, Ptr<const NetDevice> idev)
{
    if (header.GetProtocol() == kIpProtoEsp || m_spd.GetN() == 0)
    {
        return false; // ESP input, ESP in transit, or a node without policies
    }
    const int32_t iif = m_ipv4->GetInterfaceForDevice(idev);
    const XfrmFlow flow = FlowOf(header, packet);
    if (iif >= 0 && m_ipv4->IsDestinationAddress(header.GetDestination(), iif))
    {
        if (header.GetFragmentOffset() != 0)
        {
            // Linux checks the inbound policy after reassembly (ip_local_deliver defragments
            // before the protocols' xfrm4_policy_check), on the flow the first fragment carries;
            // here routing sees each fragment, so the first decides for the datagram (it is not
            // delivered without it) and the rest, which carry no ports, go on to reassembly.
            return false;
        }
        if (header.GetProtocol() == kIpProtoUdp && IsUdpEncapPort(flow.dport))
        {
            // Linux checks the socket's policy first (xfrm4_policy_check in udp_queue_rcv_one_skb),
            // and charon's encapsulation socket has a bypass policy: ESP-in-UDP and IKE on the
            // port pass it; ESP input then checks the decrypted packet.
            return false;
        }
        return !InboundPolicyAllows(XfrmDir::In, flow, packet);
    }
    if (!InboundPolicyAllows(XfrmDir::Fwd, flow, packet))
    {
        return true;
    }
    Ptr<XfrmPolicy> policy = LookupPolicy(XfrmDir::Out, flow);
    if (!policy)
    {
        return false;
    }
    if (policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::OutPolBlock, packet);
        return true;
    }
    if (policy->RequiresIpsec() && policy->IsHardware() &&
        !LeavesThroughPolicyDevice(*policy, RouteTo(header.GetSource(), header.GetDestination())))
    {
        Drop(XfrmDrop::OutError, packet);
        return true;
    }
    if (policy->RequiresIpsec() && policy->IsHardware())
    {
        // Forwarded into a packet-offload policy: the core's checks, then plaintext forwarding;
        // the device protects it on its way out.
        const bool fragment = header.GetFragmentOffset() != 0 || !header.IsLastFragment();
        return !fragment && !PacketOffloadOk(policy, header, packet);
    }
    if (!policy->RequiresIpsec() || policy->GetConfig().tmpl.mode != XfrmMode::Tunnel)
    {
        return false; // plaintext forwarding
    }
    if (header.GetTtl() <= 1)
    {
        ++m_drops[size_t(XfrmDrop::FwdHdrError)]; // routing drops it, XFRM counts it
        return false;                             // routing answers with "time exceeded"
    }
    Ipv4Header inner = header;
    inner.SetTtl(header.GetTtl() - 1);
    inner.EnableChecksum();
    Protect(policy, inner, packet, nullptr);
    return true;
}

} // namespace ns3
