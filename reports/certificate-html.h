// DIR/certificate.html: the certification as a vendor hands it to a customer, made from the
// certify.json document (layout version kCertifyJsonVersion). One self-contained HTML5 page:
// inline CSS, no scripts, no external URLs, so it opens the same offline, attached to a mail or
// archived years later.
#ifndef CERTIFICATE_HTML_H
#define CERTIFICATE_HTML_H

#include <nlohmann/json.hpp>
#include <string>

namespace offloadlab
{

/// The whole page: the verdict (a partial or interrupted run says so first and never shows a
/// bare CONFORMS), the device and its capabilities, one <tr class="requirement" data-id="ID">
/// per requirement with a cell per mode, every failing or erroring test with its message, the
/// advisory findings, the skips (not offered by the device / not built in offloadlab) and the
/// provenance. Every text of the document is HTML-escaped.
std::string CertificateHtml(const nlohmann::ordered_json& certify);

} // namespace offloadlab

#endif // CERTIFICATE_HTML_H
