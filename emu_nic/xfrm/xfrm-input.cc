// XfrmStack's input (Linux's xfrm_input and __xfrm_policy_check): ESP for this node is checked
// against replay and lifetime, decrypted (or its device's CRYPTO_DONE status taken), stripped
// and delivered; plaintext and forwarded traffic meet the inbound and forward policies.
#include "ipv4-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-stack.h"

#include "ns3/log.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmInput");

IpL4Protocol::RxStatus
XfrmStack::InputEsp(Ptr<Packet> packet,
                    const Ipv4Header& header,
                    Ptr<Ipv4Interface> incomingInterface)
{
    const uint32_t length = packet->GetSize();
    if (length < EspTransform::kHeaderLength)
    {
        Drop(XfrmDrop::InHdrError, packet);
        return IpL4Protocol::RX_OK;
    }
    CopyPacketBytes(packet, m_frame);
    uint8_t* frame = m_frame.data();
    const uint32_t spi = EspTransform::ReadSpi(frame);
    Ptr<XfrmState> x = m_sad.Find(header.GetDestination(), spi);
    if (!x)
    {
        NS_LOG_LOGIC("no state for SPI 0x" << std::hex << spi << std::dec << " to "
                                           << header.GetDestination());
        Drop(XfrmDrop::InNoStates, packet);
        return IpL4Protocol::RX_OK;
    }
    if (x->IsOffloaded(XfrmOffloadType::Packet))
    {
        // Its device would have decapsulated it; packet offload has no software path.
        Drop(XfrmDrop::InStateMismatch, packet);
        return IpL4Protocol::RX_OK;
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
        return IpL4Protocol::RX_OK;
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
        return IpL4Protocol::RX_OK;
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmDrop::InStateExpired, packet);
        return IpL4Protocol::RX_OK;
    }

    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
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
        return IpL4Protocol::RX_OK;
    }
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    if (tunnel && !IsWholeIpv4Packet(frame + offset, payloadLength, nextHeader))
    {
        // Linux: the inner header must be there (pskb_may_pull in the mode's input).
        Drop(XfrmDrop::InStateProtoError, packet);
        return IpL4Protocol::RX_OK;
    }
    x->GetReplayWindow().Advance(seq);
    if (c.esn && x->IsOffloaded(XfrmOffloadType::Crypto))
    {
        x->GetOffload().ops->StateAdvanceEsn(x);
    }
    x->GetCurrent().bytes += tunnel ? payloadLength : header.GetSerializedSize() + payloadLength;
    x->GetCurrent().packets++;

    Ptr<Packet> inner = Create<Packet>(frame + offset, payloadLength);
    if (tunnel)
    {
        XfrmSecPathTag secpath;
        secpath.nodeId = m_node->GetId();
        secpath.spi = spi;
        secpath.daddr = header.GetDestination();
        inner->AddPacketTag(secpath);
        // Re-inject the inner packet: routing and the inbound policy check see it next.
        m_ipv4->Receive(incomingInterface->GetDevice(),
                        inner,
                        kEtherTypeIpv4,
                        Address(),
                        Address(),
                        NetDevice::PACKET_HOST);
        return IpL4Protocol::RX_OK;
    }
    Ipv4Header innerHeader = header;
    innerHeader.SetProtocol(nextHeader);
    innerHeader.SetPayloadSize(payloadLength);
    return DeliverTransport(x, inner, innerHeader, incomingInterface);
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
    Ptr<XfrmPolicy> policy = m_spd.Lookup(XfrmDir::In, flow);
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
    Ptr<XfrmPolicy> policy = m_spd.Lookup(dir, flow);
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
    if (!policy)
    {
        Drop(XfrmDrop::InNoPols, packet); // a tunnel-mode secpath needs a policy to accept it
        return false;
    }
    // The SA that carried it must still exist (re-injection is synchronous, so it does unless
    // something is wrong: fail closed) and its selector must match what it carried.
    Ptr<XfrmState> x = m_sad.Find(secpath.daddr, secpath.spi);
    if (!x || !x->GetConfig().sel.Matches(flow))
    {
        Drop(XfrmDrop::InStateMismatch, packet);
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
        return !InboundPolicyAllows(XfrmDir::In, flow, packet);
    }
    if (!InboundPolicyAllows(XfrmDir::Fwd, flow, packet))
    {
        return true;
    }
    Ptr<XfrmPolicy> policy = m_spd.Lookup(XfrmDir::Out, flow);
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
