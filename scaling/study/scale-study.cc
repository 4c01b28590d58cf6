#include "scale-study.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ns3
{

bool
ParseScaleNumber(const std::string& text, double* value)
{
    try
    {
        size_t used = 0;
        *value = std::stod(text, &used);
        return used == text.size() && std::isfinite(*value);
    }
    catch (const std::exception&)
    {
        return false;
    }
}

namespace
{

bool
ParseOnOff(const std::string& text, bool* value)
{
    if (text == "on" || text == "off")
    {
        *value = text == "on";
        return true;
    }
    return false;
}

nlohmann::json
LoadsToJson(const std::vector<ScaleCoreLoad>& loads)
{
    nlohmann::json a = nlohmann::json::array();
    for (const ScaleCoreLoad& l : loads)
    {
        a.push_back({{"utilisation", l.utilisation}, {"spin", l.spin}});
    }
    return a;
}

std::vector<ScaleCoreLoad>
LoadsFromJson(const nlohmann::json& a)
{
    std::vector<ScaleCoreLoad> loads;
    for (const auto& l : a)
    {
        loads.push_back(
            ScaleCoreLoad{l.at("utilisation").get<double>(), l.at("spin").get<double>()});
    }
    return loads;
}

struct Child
{
    pid_t pid;
    int fd;
    size_t index;
    std::string output;
    std::chrono::steady_clock::time_point deadline;
    bool killed{false};
};
} // namespace

const std::vector<std::string>&
ScaleAxisNames()
{
    static const std::vector<std::string> names = {"link",
                                                   "mtu",
                                                   "clock",
                                                   "cores-per-socket",
                                                   "sas",
                                                   "flows",
                                                   "encap",
                                                   "rss",
                                                   "crypto-cap",
                                                   "turbo",
                                                   "rss-after-decrypt",
                                                   "llc",
                                                   "mix",
                                                   "ddio-mb",
                                                   "dram-gbps"};
    return names;
}

bool
SetScaleInput(ScaleCellConfig* c,
              const std::string& name,
              const std::string& value,
              std::string* error)
{
    double v = 0;
    const bool number = ParseScaleNumber(value, &v);
    const auto bad = [&](const std::string& why) {
        *error = name + ": '" + value + "' " + why;
        return false;
    };
    if (name == "link")
    {
        // Below 1 Gbit/s a 64 KiB segment takes over half a millisecond: too coarse for the
        // measured window.
        if (!number || v < 1 || v > 1600)
        {
            return bad("is not a link rate in Gbit/s from 1 to 1600");
        }
        c->linkGbps = v;
    }
    else if (name == "mtu")
    {
        if (!number || v != uint32_t(v) || v < 576 || v > 9216)
        {
            return bad("is not an MTU from 576 to 9216");
        }
        c->mtu = uint32_t(v);
    }
    else if (name == "clock")
    {
        if (!number || v < 0.5 || v > 6)
        {
            return bad("is not a clock in GHz from 0.5 to 6");
        }
        // The turbo bins keep their distance from the base clock.
        const double shift = v - c->frequency.baseGhz;
        c->frequency.baseGhz = v;
        c->frequency.maxTurboGhz += shift;
        c->frequency.allCoreTurboGhz += shift;
    }
    else if (name == "cores-per-socket")
    {
        if (!number || v != uint32_t(v) || v < 1 || v > 256)
        {
            return bad("is not a core count from 1 to 256");
        }
        c->frequency.socketCores = uint32_t(v);
    }
    else if (name == "sas" || name == "flows")
    {
        if (!number || v != uint32_t(v) || v < 0 || v > 1024)
        {
            return bad("is not a count from 0 to 1024 (0: one per CPU)");
        }
        (name == "sas" ? c->sas : c->flows) = uint32_t(v);
    }
    else if (name == "encap")
    {
        if (!ParseScaleEncap(value, &c->encap))
        {
            return bad("is not transport, tunnel or udp-tunnel");
        }
    }
    else if (name == "rss")
    {
        if (!ParseScaleRss(value, &c->rss))
        {
            return bad("is not spread or hash");
        }
    }
    else if (name == "crypto-cap")
    {
        if (!number || v < 0)
        {
            return bad("is not a rate in Gbit/s (0: no cap)");
        }
        c->cryptoCapGbps = v;
    }
    else if (name == "turbo")
    {
        if (!ParseOnOff(value, &c->frequency.turbo))
        {
            return bad("is not on or off");
        }
    }
    else if (name == "mix")
    {
        if (!ParseScaleMix(value, &c->imix))
        {
            return bad("is not fixed (TCP bulk) or imix (UDP, simple iMIX)");
        }
    }
    else if (name == "llc")
    {
        if (!ParseOnOff(value, &c->llcContention))
        {
            return bad("is not on or off");
        }
    }
    else if (name == "ddio-mb" || name == "dram-gbps")
    {
        if (!number || v <= 0 || v > 10000)
        {
            return bad("is not a positive size or rate");
        }
        (name == "ddio-mb" ? c->ddioMegabytes : c->dramGbytesPerSecond) = v;
    }
    else if (name == "rss-after-decrypt")
    {
        if (!ParseOnOff(value, &c->rssAfterDecrypt))
        {
            return bad("is not on or off");
        }
    }
    else
    {
        *error = "'" + name + "' is not an input a cell has";
        return false;
    }
    return true;
}

std::vector<ScaleCellConfig>
ExpandGrid(const ScaleCellConfig& base,
           const std::vector<ScaleMode>& modes,
           const std::vector<uint32_t>& cpus,
           const std::vector<ScaleAxis>& axes)
{
    std::vector<ScaleCellConfig> grid = {base};
    for (const ScaleAxis& axis : axes)
    {
        std::vector<ScaleCellConfig> next;
        for (const ScaleCellConfig& c : grid)
        {
            for (const std::string& v : axis.values)
            {
                ScaleCellConfig d = c;
                std::string error;
                SetScaleInput(&d, axis.name, v, &error); // checked when parsed
                next.push_back(d);
            }
        }
        grid = std::move(next);
    }
    std::vector<ScaleCellConfig> cells;
    for (const ScaleCellConfig& g : grid)
    {
        for (ScaleMode m : modes)
        {
            for (uint32_t n : cpus)
            {
                ScaleCellConfig c = g;
                c.mode = m;
                c.cpus = n;
                cells.push_back(c);
            }
        }
    }
    return cells;
}

std::vector<size_t>
ShardIndices(size_t cells, uint32_t k, uint32_t n)
{
    std::vector<size_t> out;
    for (size_t i = k - 1; i < cells; i += n)
    {
        out.push_back(i);
    }
    return out;
}

std::vector<ScaleCellRun>
RunCells(const std::vector<ScaleCellConfig>& cells,
         uint32_t jobs,
         const std::function<void(size_t, size_t)>& progress,
         std::chrono::seconds timeout)
{
    std::vector<ScaleCellRun> runs(cells.size());
    std::vector<Child> children;
    size_t next = 0;
    size_t done = 0;
    jobs = std::max(1u, jobs);
    while (done < cells.size())
    {
        while (children.size() < jobs && next < cells.size())
        {
            int fds[2];
            if (pipe2(fds, O_CLOEXEC) != 0)
            {
                runs[next].error = std::string("pipe: ") + std::strerror(errno);
                ++next;
                ++done;
                continue;
            }
            const pid_t pid = fork();
            if (pid == 0)
            {
                close(fds[0]);
                std::string out;
                try
                {
                    out = CellResultToJson(RunScaleCell(cells[next])).dump();
                }
                catch (const std::exception& e)
                {
                    out = nlohmann::json{{"error", e.what()}}.dump();
                }
                size_t off = 0;
                while (off < out.size())
                {
                    const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
                    if (n < 0 && errno == EINTR)
                    {
                        continue;
                    }
                    if (n <= 0)
                    {
                        _exit(3);
                    }
                    off += size_t(n);
                }
                _exit(0);
            }
            close(fds[1]);
            if (pid < 0)
            {
                const int e = errno;
                close(fds[0]);
                if (e == EAGAIN && !children.empty())
                {
                    break; // again once a running cell is done
                }
                runs[next].error = std::string("fork: ") + std::strerror(e);
                ++next;
                ++done;
                continue;
            }
            children.push_back(
                Child{pid, fds[0], next, "", std::chrono::steady_clock::now() + timeout});
            ++next;
        }
        if (children.empty())
        {
            continue;
        }
        std::vector<pollfd> pfds;
        for (const Child& c : children)
        {
            pfds.push_back(pollfd{c.fd, POLLIN, 0});
        }
        // Until the earliest deadline: a cell past its own is killed, and says so.
        auto earliest = children.front().deadline;
        for (const Child& c : children)
        {
            earliest = std::min(earliest, c.deadline);
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                              earliest - std::chrono::steady_clock::now())
                              .count();
        for (Child& c : children)
        {
            if (!c.killed && std::chrono::steady_clock::now() >= c.deadline)
            {
                kill(c.pid, SIGKILL);
                c.killed = true;
            }
        }
        if (poll(pfds.data(), pfds.size(), int(std::clamp<int64_t>(wait, 0, 60000))) < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            const std::string why = std::string("poll: ") + std::strerror(errno);
            for (size_t i = next; i < cells.size(); ++i)
            {
                runs[i].error = why;
            }
            for (const Child& c : children)
            {
                runs[c.index].error = why;
            }
            break;
        }
        for (size_t i = children.size(); i-- > 0;)
        {
            if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
            {
                continue;
            }
            Child& c = children[i];
            char buf[65536];
            const ssize_t n = (pfds[i].revents & POLLNVAL) ? 0 : read(c.fd, buf, sizeof(buf));
            if (n > 0)
            {
                c.output.append(buf, size_t(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
            {
                continue;
            }
            close(c.fd);
            int status = 0;
            pid_t waited;
            do
            {
                waited = waitpid(c.pid, &status, 0);
            } while (waited < 0 && errno == EINTR);
            ScaleCellRun& run = runs[c.index];
            if (waited != c.pid)
            {
                run.error = std::string("waitpid: ") + std::strerror(errno);
            }
            else if (c.killed)
            {
                run.error = "the cell ran longer than " +
                            std::to_string(
                                std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                            " s and was killed";
            }
            else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            {
                run.error =
                    WIFSIGNALED(status)
                        ? std::string("the cell's process died of signal ") +
                              strsignal(WTERMSIG(status))
                        : "the cell's process exited with " + std::to_string(WEXITSTATUS(status));
            }
            else
            {
                try
                {
                    const nlohmann::json j = nlohmann::json::parse(c.output);
                    if (j.contains("error"))
                    {
                        run.error = j.at("error").get<std::string>();
                    }
                    else
                    {
                        run.result = CellResultFromJson(j);
                        run.ok = true;
                    }
                }
                catch (const std::exception& e)
                {
                    run.error = std::string("the cell's output is not JSON: ") + e.what();
                }
            }
            children.erase(children.begin() + i);
            ++done;
            if (progress)
            {
                progress(done, cells.size());
            }
        }
    }
    for (const Child& c : children)
    {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, nullptr, 0);
        close(c.fd);
    }
    return runs;
}

nlohmann::json
CellInputsToJson(const ScaleCellConfig& c)
{
    return {{"mode", ScaleModeName(c.mode)},
            {"cpus", c.cpus},
            {"flows", c.flows == 0 ? c.cpus : c.flows},
            {"flows_per_cpu", c.flows == 0},
            {"sas",
             c.sas == 0 ? (c.flows == 0 ? c.cpus : c.flows)
                        : std::min(c.sas, c.flows == 0 ? c.cpus : c.flows)},
            {"sa_per_stream", c.sas == 0},
            {"link_gbps", c.linkGbps},
            {"mtu", c.mtu},
            {"encap", ScaleEncapName(c.encap)},
            {"mix", ScaleMixName(c.imix)},
            {"rss", ScaleRssName(c.rss)},
            {"rss_after_decrypt", c.rssAfterDecrypt},
            {"crypto_cap_gbps", c.cryptoCapGbps},
            {"llc_contention",
             {{"on", c.llcContention},
              {"ddio_mb", c.ddioMegabytes},
              {"dram_gbytes_per_second", c.dramGbytesPerSecond}}},
            {"frequency",
             {{"turbo", c.frequency.turbo},
              {"base_ghz", c.frequency.baseGhz},
              {"max_turbo_ghz", c.frequency.maxTurboGhz},
              {"all_core_turbo_ghz", c.frequency.allCoreTurboGhz},
              {"socket_cores", c.frequency.socketCores}}},
            {"warmup_ms", c.warmupMs},
            {"measure_ms", c.measureMs},
            {"stream_buffer_bytes", c.receiveBufferBytes}};
}

nlohmann::json
CellResultToJson(const ScaleCellResult& r)
{
    return {{"gbps", r.gbps},
            {"wire_gbps", r.wireGbps},
            {"mpps", r.mpps},
            {"delivered_mpps", r.deliveredMpps},
            {"ghz", r.ghz},
            {"mss", r.mss},
            {"segment_packets", r.segmentPackets},
            {"receiver_cores", LoadsToJson(r.receiverCores)},
            {"sender_cores", LoadsToJson(r.senderCores)},
            {"rx_core_of_flow", r.rxCoreOfFlow},
            {"drops", r.drops},
            {"receiver_resident_mb", r.residentMegabytes},
            {"llc_miss_share", r.llcMissShare},
            {"wall_seconds", r.wallSeconds}};
}

ScaleCellResult
CellResultFromJson(const nlohmann::json& j)
{
    ScaleCellResult r;
    r.gbps = j.at("gbps").get<double>();
    r.wireGbps = j.at("wire_gbps").get<double>();
    r.mpps = j.at("mpps").get<double>();
    r.deliveredMpps = j.at("delivered_mpps").get<double>();
    r.ghz = j.at("ghz").get<double>();
    r.mss = j.at("mss").get<uint32_t>();
    r.segmentPackets = j.at("segment_packets").get<uint32_t>();
    r.receiverCores = LoadsFromJson(j.at("receiver_cores"));
    r.senderCores = LoadsFromJson(j.at("sender_cores"));
    r.rxCoreOfFlow = j.at("rx_core_of_flow").get<std::vector<uint32_t>>();
    r.drops = j.at("drops").get<uint64_t>();
    r.residentMegabytes = j.at("receiver_resident_mb").get<double>();
    r.llcMissShare = j.at("llc_miss_share").get<double>();
    r.wallSeconds = j.at("wall_seconds").get<double>();
    return r;
}

nlohmann::json
CostsToJson(const ScaleCosts& costs)
{
    nlohmann::json j;
    for (const auto& [name, field] : ScaleCosts::Names())
    {
        j[name] = costs.*field;
    }
    nlohmann::json cipher = nlohmann::json::array();
    for (const auto& [bytes, cycles] : costs.cipher.GetPoints())
    {
        cipher.push_back({{"bytes", bytes}, {"cycles", cycles}});
    }
    j["cipher"] = cipher;
    return j;
}

bool
CostsFromJson(const nlohmann::json& j, ScaleCosts* costs, std::string* error)
{
    ScaleCosts c;
    for (const auto& [name, field] : ScaleCosts::Names())
    {
        if (!j.contains(name) || !j.at(name).is_number())
        {
            *error = "parameters." + name + " is missing or not a number";
            return false;
        }
        c.*field = j.at(name).get<double>();
    }
    if (!j.contains("cipher") || !j.at("cipher").is_array() || j.at("cipher").empty())
    {
        *error = "parameters.cipher is missing or empty";
        return false;
    }
    std::vector<std::pair<uint32_t, double>> points;
    for (const auto& p : j.at("cipher"))
    {
        points.emplace_back(p.at("bytes").get<uint32_t>(), p.at("cycles").get<double>());
    }
    c.cipher = CipherCost(std::move(points));
    *costs = c;
    return true;
}

} // namespace ns3
