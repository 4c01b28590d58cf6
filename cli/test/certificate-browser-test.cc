// certificate.html as a customer opens it: the real `offloadlab certify` against the reference
// device, then the page rendered by headless Chromium. The rendered DOM must hold one
// requirement row per requirement of certify.json, and the browser must log no console message
// and no network error (the page is self-contained: nothing to load, nothing to run).
#include "shell.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using clitest::Output;
using clitest::Quote;
using clitest::Shell;
using clitest::TempDir;

namespace
{
const char* kChromium = "/usr/bin/chromium";

std::string
ReadText(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

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

} // namespace

TEST(CertificateBrowserTest, ChromiumRendersOneRowPerRequirement)
{
    if (access(kChromium, X_OK) != 0)
    {
        GTEST_SKIP() << kChromium << " is not installed (ci/setup installs the Debian package "
                     << "chromium): cannot render certificate.html in a browser";
    }
    TempDir dir("certificate-browser-test");
    const fs::path out = dir.Path() / "out";
    // The whole catalog (about 20 s on 2 cores): the page a vendor hands over.
    const Output run = Shell(std::string(OFFLOADLAB_BINARY) +
                             " certify --device reference --jobs 2 --out " + Quote(out.string()));
    ASSERT_EQ(run.exitCode, 0) << run.text;
    const nlohmann::json certify = nlohmann::json::parse(ReadText(out / "certify.json"));
    const size_t requirements = certify["requirements"].size();
    // One row per requirement of the catalog the run used.
    const nlohmann::json catalog =
        nlohmann::json::parse(ReadText(certify["provenance"]["catalog"].get<std::string>()));
    ASSERT_EQ(requirements, catalog["requirements"].size());
    const fs::path page = out / "certificate.html";
    ASSERT_TRUE(fs::is_regular_file(page));
    EXPECT_EQ(ReadText(page).find("http"), std::string::npos);

    // A profile of its own, so that no other Chromium's state (or lock) gets in the way.
    const fs::path dom = dir.Path() / "dom.html";
    const fs::path log = dir.Path() / "chromium.log";
    const std::string command = std::string(kChromium) +
                                " --headless --no-sandbox --disable-gpu --enable-logging=stderr"
                                " --v=0 --user-data-dir=" +
                                Quote((dir.Path() / "profile").string()) + " --dump-dom " +
                                Quote("file://" + page.string()) + " >" + Quote(dom.string()) +
                                " 2>" + Quote(log.string());
    const Output browser = Shell("timeout 120 " + command);
    const std::string stderrText = ReadText(log);
    ASSERT_EQ(browser.exitCode, 0) << command << "\n" << stderrText;
    const std::string rendered = ReadText(dom);
    ASSERT_NE(rendered.find("</html>"), std::string::npos) << rendered;

    EXPECT_EQ(Count(rendered, "class=\"requirement\""), requirements) << rendered;
    for (const auto& r : certify["requirements"])
    {
        EXPECT_EQ(Count(rendered, "data-id=\"" + r["id"].get<std::string>() + "\""), 1u) << r["id"];
    }
    EXPECT_EQ(rendered.find("PARTIAL RUN"), std::string::npos);
    EXPECT_NE(rendered.find("CONFORMS"), std::string::npos);

    // The page runs no script and loads nothing: any console message or network error is a bug.
    std::istringstream lines(stderrText);
    std::string line;
    while (std::getline(lines, line))
    {
        EXPECT_EQ(line.find("CONSOLE"), std::string::npos) << line;
        EXPECT_EQ(line.find("ERR_"), std::string::npos) << line;
    }
}
