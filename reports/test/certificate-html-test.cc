// certificate.html from hand-made certify.json documents: one row per requirement, everything
// escaped, partial and interrupted runs labelled, skips split by why, nothing external.
#include "certificate-html.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace
{
using offloadlab::CertificateHtml;
using Json = nlohmann::ordered_json;

size_t
Count(const std::string& text, const std::string& what)
{
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    {
        ++n;
    }
    return n;
}

Json
TestOf(const std::string& name, const std::string& result, const std::string& message)
{
    return {{"name", name}, {"result", result}, {"message", message}, {"duration", 0.1}};
}

/// A full run with three requirements: a pass, a failure and one skipped twice.
Json
Document()
{
    Json doc;
    doc["format"] = "offloadlab-certify";
    doc["version"] = 2;
    doc["status"] = "does-not-conform";
    doc["partial"] = false;
    doc["interrupted"] = "";
    doc["device"] = {{"spec", "reference"},
                     {"name", "reference"},
                     {"capabilities",
                      {{"name", "reference"},
                       {"description", "offloadlab reference NIC"},
                       {"abi_version", 2},
                       {"offload_type_names", {"crypto", "packet"}},
                       {"feature_names", {"HW_ESP"}},
                       {"algorithm_names", {"rfc4106(gcm(aes))"}},
                       {"max_sa", 64},
                       {"max_policies", 64},
                       {"esn", 1},
                       {"tunnel", 1},
                       {"lifetime_packets", "exact"},
                       {"lifetime_bytes", "polled"},
                       {"lifetime_poll_ms", 100}}}};
    doc["provenance"] = {{"offloadlab_version", "1.2.3"},
                         {"offloadlab_commit", "abcdef123456"},
                         {"catalog", "/catalog.json"},
                         {"catalog_version", 7},
                         {"catalog_sha256", "c0ffee"},
                         {"device_spec", "reference"},
                         {"device_library", "/lib/ref.so"},
                         {"device_sha256", "d00d"},
                         {"host", "builder"},
                         {"started", "2024-01-01T00:00:00Z"},
                         {"duration_seconds", 1.5},
                         {"command_line", "offloadlab certify --device reference"}};
    doc["failing_requirements"] = {"B-FAIL"};
    doc["advisory_findings"] = {
        {{"id", "C-SKIP"}, {"test", "C.Adv/0"}, {"finding", "a finding & more"}}};
    doc["modes"] = {"crypto", "packet"};
    doc["requirements"] = {
        {{"id", "A-PASS"},
         {"kind", "must"},
         {"text", "passes"},
         {"source", {{"document", "RFC 4303"}, {"section", "3.3"}, {"linux", "esp_output"}}},
         {"result", "pass"},
         {"results", {{"crypto", "pass"}}},
         {"tests", {TestOf("A.Check/crypto", "pass", "")}}},
        {{"id", "B-FAIL"},
         {"kind", "must"},
         {"text", "fails <b>"},
         {"source", {{"linux", "xfrm_dev_state_add"}}},
         {"result", "fail"},
         {"results", {{"crypto", "fail"}, {"packet", "pass"}}},
         {"tests",
          {TestOf("B.Check/crypto", "fail", "file.cc:12\n<script>alert(1)</script> broke"),
           TestOf("B.Check/packet", "pass", "")}}},
        {{"id", "C-SKIP"},
         {"kind", "should"},
         {"text", "skipped"},
         {"source", Json::object()},
         {"result", "skip"},
         {"results", {{"packet", "skip"}}},
         {"tests",
          {TestOf("C.Check/packet", "skip", "device offers no tunnel"),
           TestOf("C.Other/packet", "skip", "not built: needs a traffic generator")}}}};
    return doc;
}
} // namespace

TEST(CertificateHtmlTest, OneRowPerRequirement)
{
    const Json doc = Document();
    const std::string html = CertificateHtml(doc);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(Count(html, "<tr class=\"requirement\""), doc["requirements"].size());
    for (const auto& r : doc["requirements"])
    {
        EXPECT_EQ(Count(html, "data-id=\"" + r["id"].get<std::string>() + "\""), 1u);
    }
    // A-PASS has no packet mode.
    EXPECT_NE(html.find("<td class=\"r-none\">-</td>"), std::string::npos);
    EXPECT_NE(html.find("DOES NOT CONFORM"), std::string::npos);
    EXPECT_NE(html.find("xfrm_dev_state_add"), std::string::npos);
    EXPECT_NE(html.find("RFC 4303 3.3"), std::string::npos);
    EXPECT_NE(html.find("offloadlab reference NIC"), std::string::npos);
    EXPECT_NE(html.find("rfc4106(gcm(aes))"), std::string::npos);
    for (const char* value : {"abcdef123456", "c0ffee", "d00d", "/lib/ref.so", "builder"})
    {
        EXPECT_NE(html.find(value), std::string::npos) << value;
    }
    EXPECT_NE(html.find("a finding &amp; more"), std::string::npos);
}

TEST(CertificateHtmlTest, EscapesEverything)
{
    const std::string html = CertificateHtml(Document());
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("fails <b>"), std::string::npos);
    EXPECT_NE(html.find("<pre>file.cc:12&#10;&lt;script&gt;alert(1)&lt;/script&gt; broke</pre>"),
              std::string::npos)
        << html;
    EXPECT_NE(html.find("fails &lt;b&gt;"), std::string::npos);
}

TEST(CertificateHtmlTest, NothingExternal)
{
    const std::string html = CertificateHtml(Document());
    EXPECT_EQ(html.find("http"), std::string::npos);
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(CertificateHtmlTest, ConformsOnlyForAFullRun)
{
    Json doc = Document();
    doc["status"] = "conforms";
    doc["failing_requirements"] = Json::array();
    EXPECT_NE(CertificateHtml(doc).find(">CONFORMS<"), std::string::npos);

    doc["status"] = "conforms-partial";
    doc["partial"] = true;
    doc["only"] = {"A-PASS"};
    std::string html = CertificateHtml(doc);
    EXPECT_NE(html.find("PARTIAL RUN"), std::string::npos);
    EXPECT_EQ(html.find("CONFORMS"), std::string::npos);

    doc["status"] = "does-not-conform-partial";
    html = CertificateHtml(doc);
    EXPECT_NE(html.find("PARTIAL RUN (--only): DOES NOT CONFORM"), std::string::npos);

    doc["status"] = "interrupted";
    doc["interrupted"] = "SIGINT";
    html = CertificateHtml(doc);
    EXPECT_NE(html.find("INTERRUPTED (SIGINT)"), std::string::npos);
    EXPECT_EQ(html.find("CONFORMS"), std::string::npos);

    doc["status"] = "error";
    doc["interrupted"] = "";
    doc["error"] = "cannot load <device>";
    html = CertificateHtml(doc);
    EXPECT_NE(html.find("ERROR: no verdict"), std::string::npos);
    EXPECT_NE(html.find("cannot load &lt;device&gt;"), std::string::npos);
}

TEST(CertificateHtmlTest, SkipsSplitByWhy)
{
    const std::string html = CertificateHtml(Document());
    const size_t offered = html.find("<ul class=\"skips-not-offered\">");
    const size_t built = html.find("<ul class=\"skips-not-built\">");
    ASSERT_NE(offered, std::string::npos);
    ASSERT_NE(built, std::string::npos);
    const std::string offeredList = html.substr(offered, html.find("</ul>", offered) - offered);
    const std::string builtList = html.substr(built, html.find("</ul>", built) - built);
    EXPECT_NE(offeredList.find("device offers no tunnel"), std::string::npos);
    EXPECT_EQ(offeredList.find("not built"), std::string::npos);
    EXPECT_NE(builtList.find("not built: needs a traffic generator"), std::string::npos);
    EXPECT_EQ(builtList.find("device offers no tunnel"), std::string::npos);
}
