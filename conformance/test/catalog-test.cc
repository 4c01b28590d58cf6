// The requirement catalog: valid, covering what vendors are certified on, in sync with the docs,
// and strict about bad entries.
#include "requirement-catalog.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/wait.h>

using namespace offloadlab;

namespace
{
RequirementCatalog
TheCatalog()
{
    RequirementCatalog catalog;
    std::string error;
    EXPECT_TRUE(RequirementCatalog::Load(RequirementCatalog::DefaultPath(), &catalog, &error))
        << error;
    return catalog;
}

std::string
ReadFile(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}
} // namespace

TEST(CatalogTest, HasAtLeastFortyRequirementsWithSourcesAndModes)
{
    RequirementCatalog catalog = TheCatalog();
    size_t requirements = 0;
    for (const auto& r : catalog.GetRequirements())
    {
        requirements += r.allowance ? 0 : 1;
        EXPECT_FALSE(r.modes.empty()) << r.id;
        EXPECT_TRUE(catalog.GetDocuments().count(r.document)) << r.id;
    }
    EXPECT_GE(requirements, 40u);
    EXPECT_EQ(catalog.GetModes(), (std::vector<std::string>{"sw", "crypto", "packet"}));
}

// Every topic the conformance issue lists has an entry, with the modes the sources give it.
struct Topic
{
    const char* id;
    std::vector<std::string> modes;
};

void
PrintTo(const Topic& param, std::ostream* os)
{
    *os << param.id;
}

class CatalogTopicTest : public ::testing::TestWithParam<Topic>
{
};

TEST_P(CatalogTopicTest, IsCoveredWithTheRightModes)
{
    RequirementCatalog catalog = TheCatalog();
    const Requirement* r = catalog.Find(GetParam().id);
    ASSERT_NE(r, nullptr) << GetParam().id << " is missing";
    EXPECT_EQ(r->modes, GetParam().modes);
}

const std::vector<std::string> kAll{"sw", "crypto", "packet"};
const std::vector<std::string> kOffload{"crypto", "packet"};
const std::vector<std::string> kCrypto{"crypto"};
const std::vector<std::string> kPacket{"packet"};
const std::vector<std::string> kSoftwareAndPacket{"sw", "packet"};

INSTANTIATE_TEST_SUITE_P(Topics,
                         CatalogTopicTest,
                         ::testing::Values(Topic{"STATE-ADD-OK", kOffload},
                                           Topic{"STATE-DELETE-STOPS", kOffload},
                                           Topic{"STATE-FREE-RELEASES", kOffload},
                                           Topic{"CRYPTO-FALLBACK-SW", kCrypto},
                                           Topic{"PKT-NO-FALLBACK", kPacket},
                                           Topic{"OFFLOAD-OK-IPV4-OPTIONS", kOffload},
                                           Topic{"OFFLOAD-OK-IPV6", kOffload},
                                           Topic{"IPV6-EXT-HEADERS", kOffload},
                                           Topic{"CRYPTO-RX-DONE-STATUS", kCrypto},
                                           Topic{"CRYPTO-RX-BAD-ICV-STATUS", kCrypto},
                                           Topic{"CSUM-TX-INNER", kCrypto},
                                           Topic{"MODE-TRANSPORT", kAll},
                                           Topic{"MODE-TUNNEL", kAll},
                                           Topic{"UDPENC-ESP-IN-UDP", kSoftwareAndPacket},
                                           Topic{"UDPENC-CRYPTO-REFUSED", kCrypto},
                                           Topic{"PKT-FRAG-TX-DROP", kPacket},
                                           Topic{"PKT-FRAG-RX-DROP", kPacket},
                                           Topic{"PKT-PMTU-DROP", kPacket},
                                           Topic{"PKT-PMTU-TCP-RECOVERS", kPacket},
                                           Topic{"LFT-SOFT-BYTES", kAll},
                                           Topic{"LFT-SOFT-PACKETS", kAll},
                                           Topic{"LFT-HARD-BYTES", kAll},
                                           Topic{"LFT-HARD-PACKETS", kAll},
                                           Topic{"LFT-TIME-ADD", kAll},
                                           Topic{"LFT-TIME-USE", kAll},
                                           Topic{"REKEY-MAKE-BEFORE-BREAK", kAll},
                                           Topic{"STATS-UPDATE-EXACT", kPacket},
                                           Topic{"REPLAY-WINDOW-SIZES", kAll},
                                           Topic{"ESN-HIGH-ORDER", kAll},
                                           Topic{"ESN-ADVANCE-DEVICE", kCrypto},
                                           Topic{"POL-HW-OUTRANKS-SW", kPacket},
                                           Topic{"POL-DELETE", kPacket},
                                           Topic{"DEV-LINK-DOWN-FLUSH", kOffload},
                                           Topic{"DEV-SA-CAPACITY", kOffload},
                                           Topic{"SEQ-START-AT-1", kAll},
                                           Topic{"SEQ-OVERFLOW-NO-CYCLE", kAll},
                                           Topic{"IV-UNIQUE", kAll},
                                           Topic{"PAD-CORRECT", kAll},
                                           Topic{"NEXT-HEADER-CORRECT", kAll}),
                         [](const auto& info) {
                             std::string name = info.param.id;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

TEST(CatalogTest, AllowedDifferencesAreEntriesOfTheirOwn)
{
    RequirementCatalog catalog = TheCatalog();
    for (const char* id : {"ALLOW-PKT-FRAGMENTS", "ALLOW-PKT-PMTU", "ALLOW-CRYPTO-SW-FALLBACK"})
    {
        const Requirement* r = catalog.Find(id);
        ASSERT_NE(r, nullptr) << id;
        EXPECT_TRUE(r->allowance) << id;
        EXPECT_FALSE(r->AppliesTo("sw")) << id << ": software IPsec is the reference";
    }
}

// docs/conformance.md is the catalog's Markdown, byte for byte: edit the JSON, then run
// `build/offloadlab catalog --markdown > docs/conformance.md`.
TEST(CatalogTest, DocsMatchTheCatalog)
{
    const std::string docs = ReadFile(std::string(OFFLOADLAB_SOURCE_DIR) + "/docs/conformance.md");
    EXPECT_EQ(docs, TheCatalog().ToMarkdown())
        << "docs/conformance.md is stale: regenerate it with offloadlab catalog --markdown";
}

struct BadCatalog
{
    const char* name;
    const char* requirement; //!< one JSON requirement object
    const char* mentions;
};

void
PrintTo(const BadCatalog& param, std::ostream* os)
{
    *os << param.name;
}

class BadCatalogTest : public ::testing::TestWithParam<BadCatalog>
{
};

TEST_P(BadCatalogTest, IsRejectedNamingTheFieldAndValue)
{
    const std::string json = std::string(R"({"version": 1, "modes": ["sw", "crypto", "packet"],
        "documents": {"rfc4303": "RFC 4303"}, "requirements": [)") +
                             GetParam().requirement + "]}";
    RequirementCatalog catalog;
    std::string error;
    EXPECT_FALSE(RequirementCatalog::Parse(json, &catalog, &error));
    EXPECT_NE(error.find(GetParam().mentions), std::string::npos) << error;
}

#define REQ(id, text, modes, doc, kind)                                                            \
    "{\"id\": \"" id "\", \"text\": \"" text "\", \"modes\": " modes                               \
    ", \"source\": {\"document\": \"" doc "\", \"section\": \"3.4.3\"}, \"kind\": \"" kind "\"}"

INSTANTIATE_TEST_SUITE_P(
    Cases,
    BadCatalogTest,
    ::testing::Values(
        BadCatalog{"LowercaseId",
                   REQ("replay-dup", "Dropped.", "[\"sw\"]", "rfc4303", "requirement"),
                   "replay-dup"},
        BadCatalog{"DuplicateId",
                   REQ("REPLAY-DUP", "Dropped.", "[\"sw\"]", "rfc4303", "requirement") "," REQ(
                       "REPLAY-DUP",
                       "Dropped.",
                       "[\"sw\"]",
                       "rfc4303",
                       "requirement"),
                   "appears twice"},
        BadCatalog{"UnknownMode",
                   REQ("REPLAY-DUP", "Dropped.", "[\"pakcet\"]", "rfc4303", "requirement"),
                   "pakcet"},
        BadCatalog{"NoModes",
                   REQ("REPLAY-DUP", "Dropped.", "[]", "rfc4303", "requirement"),
                   "modes"},
        BadCatalog{"UnknownDocument",
                   REQ("REPLAY-DUP", "Dropped.", "[\"sw\"]", "rfc9999", "requirement"),
                   "rfc9999"},
        BadCatalog{"NotASentence",
                   REQ("REPLAY-DUP", "dropped", "[\"sw\"]", "rfc4303", "requirement"),
                   "text"},
        BadCatalog{"BadKind", REQ("REPLAY-DUP", "Dropped.", "[\"sw\"]", "rfc4303", "rule"), "kind"},
        BadCatalog{"AllowanceWithoutPrefix",
                   REQ("REPLAY-DUP", "Dropped.", "[\"sw\"]", "rfc4303", "allowance"),
                   "ALLOW-"}),
    [](const auto& info) { return std::string(info.param.name); });
