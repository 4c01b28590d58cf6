#ifndef ESP_SA_FILE_H
#define ESP_SA_FILE_H

#include "esp-algorithm.h"

#include "ns3/ipv4-address.h"

#include <cstdint>
#include <string>

namespace ns3
{

/**
 * Wireshark's esp_sa table (the ESP SAs UAT, Wireshark 4.0's 8-field format), so that tshark can
 * decrypt and authenticate the ESP in a pcap: `tshark -o esp.enable_encryption_decode:TRUE
 * -o esp.enable_authentication_check:TRUE -r FILE.pcap` with the file in Wireshark's profile.
 */
class EspSaFile
{
  public:
    /// Adds one SA (once: repeated lines are skipped).
    void Add(Ipv4Address saddr, Ipv4Address daddr, uint32_t spi, const EspAlgorithm& algorithm);
    /// The whole file: a comment that these are test keys, then one line per SA.
    std::string ToString() const;
    bool Write(const std::string& path) const;

  private:
    std::string m_lines;
};

} // namespace ns3

#endif // ESP_SA_FILE_H
