#ifndef ESP_SA_FILE_H
#define ESP_SA_FILE_H

#include <cstdint>
#include <string>
#include <vector>

namespace offloadlab
{

/// One IPv4 ESP SA as Wireshark needs it to decrypt and authenticate.
struct EspSaEntry
{
    std::string saddr; //!< dotted quad, or IPv6 text (the line then says IPv6)
    std::string daddr;
    uint32_t spi{0};
    bool gcm{true}; //!< rfc4106(gcm(aes)) with a 16-octet ICV; else cbc(aes)+hmac(sha256)
    std::vector<uint8_t> encKey; //!< GCM: key || 4-byte salt
    std::vector<uint8_t> authKey;
};

/**
 * Wireshark's esp_sa table (the ESP SAs UAT, Wireshark 4.0's 8-field format), so that tshark can
 * decrypt and authenticate the ESP in a pcap: `tshark -o esp.enable_encryption_decode:TRUE
 * -o esp.enable_authentication_check:TRUE -r FILE.pcap` with the file in Wireshark's profile.
 */
class EspSaFile
{
  public:
    /// Adds one SA (once: repeated lines are skipped).
    void Add(const EspSaEntry& sa);
    /// The whole file: a comment that these are test keys, then one line per SA.
    std::string ToString() const;
    bool Write(const std::string& path) const;

  private:
    std::string m_lines;
};

} // namespace offloadlab

#endif // ESP_SA_FILE_H
