// The sentence certify shows for a failure (junit's message attribute, the console's list of
// failing requirements), from messages as GoogleTest writes them.
#include "certify-report.h"

#include <gtest/gtest.h>

namespace
{

TEST(FailureReason, TheTestsOwnWordsAfterGoogleTestsDump)
{
    EXPECT_EQ(offloadlab::FailureReason("conformance/suite/lifetime-rekey-test.cc:143\n"
                                        "Expected equality of these values:\n"
                                        "  softExpires\n"
                                        "    Which is: 0\n"
                                        "  1\n"
                                        "no soft expire reached the key manager after 1200 "
                                        "bytes\nsecond line"),
              "no soft expire reached the key manager after 1200 bytes (Expected equality of "
              "these values: softExpires Which is: 0 1)");
}

TEST(FailureReason, OnlyTheFirstFailureUpToTheTrace)
{
    EXPECT_EQ(
        offloadlab::FailureReason("a.cc:1\nValue of: ok\nGoogle Test trace:\na.cc:2: window 32\n"
                                  "\na.cc:3\nsecond failure"),
        "Value of: ok");
}

TEST(FailureReason, AMessageThatStartsWithWordsKeepsItsFirstLine)
{
    EXPECT_EQ(offloadlab::FailureReason("wire-oracle.cc:56\nwire oracle: the device sent ESP with "
                                        "SPI 0x10 that Scapy cannot open\nmore"),
              "wire oracle: the device sent ESP with SPI 0x10 that Scapy cannot open");
}

TEST(FailureReason, OnlyTheDumpComesOnOneLineWithoutTheLocation)
{
    EXPECT_EQ(offloadlab::FailureReason("seq.cc:12\nValue of: x\n  Actual: false\nExpected: true"),
              "Value of: x Actual: false Expected: true");
    EXPECT_EQ(offloadlab::FailureReason(""), "(no message)");
    EXPECT_EQ(offloadlab::FailureReason(std::string(1000, 'a')).size(), 403u);
}

} // namespace
