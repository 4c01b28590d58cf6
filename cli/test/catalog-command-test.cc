// `offloadlab catalog` as a user runs it: the catalog listed, a bad file named.
#include "shell.h"

#include <gtest/gtest.h>
#include <string>

namespace
{

using clitest::Shell;

TEST(CatalogCommand, ListsTheCatalogAndRejectsABadFile)
{
    const clitest::Output list = Shell(std::string(OFFLOADLAB_BINARY) + " catalog");
    EXPECT_EQ(list.exitCode, 0) << list.text;
    EXPECT_NE(list.text.find("PKT-FRAG-TX-DROP"), std::string::npos) << list.text;
    const clitest::Output bad =
        Shell(std::string(OFFLOADLAB_BINARY) + " catalog --file /nonexistent.json");
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.text.find("/nonexistent.json"), std::string::npos) << bad.text;
}

} // namespace
