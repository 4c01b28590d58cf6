#include "scale-calibration.h"

#include "scale-reference.h"

#include <cmath>
#include <stdexcept>
#include <tuple>

namespace ns3
{

namespace
{
double
SimulateOneCpu(ScaleCellConfig cell, ScaleMode mode, const ScaleCosts& costs)
{
    cell.mode = mode;
    cell.cpus = 1;
    cell.flows = 0;
    cell.costs = costs;
    return RunScaleCell(cell).gbps;
}

// The secant method on f(x) = rate(x) - target, rate falling as the cost x grows.
ScaleFitStep
Fit(const ScaleCellConfig& cell,
    ScaleMode mode,
    ScaleCosts* costs,
    double ScaleCosts::*field,
    const char* name,
    bool requireReached)
{
    ScaleFitStep step;
    step.parameter = name;
    step.mode = mode;
    step.referenceGbps = ReferenceGbps(mode, 1);
    // 1/rate is close to linear in a cost (time per byte is a sum of costs), so the secant on
    // it lands in a step or two; a cost never goes below 0.
    const auto error = [&](double x) {
        costs->*field = x;
        ++step.rounds;
        const double rate = SimulateOneCpu(cell, mode, *costs);
        return std::make_pair(rate, 1 / rate - 1 / step.referenceGbps);
    };
    // The secant inside a bracket [lo, hi] (rate(lo) above the reference, rate(hi) below),
    // bisecting where the secant would leave it; a cost never goes below 0.
    double lo = 0;
    double hi = -1; // none yet
    double x0 = costs->*field;
    auto [r0, f0] = error(x0);
    (f0 < 0 ? lo : hi) = x0;
    double x1 = x0 * 1.5 + 100;
    auto [r1, f1] = error(x1);
    (f1 < 0 ? lo : hi) = f1 < 0 ? std::max(lo, x1) : (hi < 0 ? x1 : std::min(hi, x1));
    while (std::fabs(r1 - step.referenceGbps) > 0.001 * step.referenceGbps && step.rounds < 16)
    {
        double x2 = f1 != f0 ? x1 - f1 * (x1 - x0) / (f1 - f0) : -1;
        const double top = hi < 0 ? std::max(2 * lo, x1 * 2 + 100) : hi;
        if (!(x2 > lo && x2 < top))
        {
            x2 = hi < 0 ? top : (lo + hi) / 2;
        }
        if (lo == 0 && x2 <= 0)
        {
            break;
        }
        x0 = x1;
        f0 = f1;
        x1 = x2;
        std::tie(r1, f1) = error(x1);
        if (f1 < 0)
        {
            lo = std::max(lo, x1);
        }
        else
        {
            hi = hi < 0 ? x1 : std::min(hi, x1);
        }
    }
    costs->*field = x1;
    step.reached = std::fabs(r1 - step.referenceGbps) <= 0.01 * step.referenceGbps;
    if (!step.reached && requireReached)
    {
        throw std::runtime_error(std::string("calibration: ") + name + " cannot bring the " +
                                 ScaleModeName(mode) + " 1-CPU cell to " +
                                 std::to_string(step.referenceGbps) + " Gbit/s (got " +
                                 std::to_string(r1) + ")");
    }
    step.value = x1;
    step.simulatedGbps = r1;
    return step;
}
} // namespace

ScaleCalibration
Calibrate(const ScaleCellConfig& cell,
          const MachineCosts& machine,
          double cipherFactor,
          bool requireReached)
{
    ScaleCalibration c;
    c.cipherFactor = cipherFactor;
    c.costs = cell.costs;
    c.costs.cipher = machine.cipher.Scaled(cipherFactor);
    c.costs.copyByte = machine.copyByte;
    // Each later mode runs the earlier modes' stages too: fit them in this order.
    c.steps.push_back(Fit(cell,
                          ScaleMode::Baseline,
                          &c.costs,
                          &ScaleCosts::driverPacket,
                          "driver_packet",
                          requireReached));
    c.steps.push_back(Fit(cell,
                          ScaleMode::Crypto,
                          &c.costs,
                          &ScaleCosts::xfrmPacket,
                          "xfrm_packet",
                          requireReached));
    c.steps.push_back(Fit(cell,
                          ScaleMode::Software,
                          &c.costs,
                          &ScaleCosts::espSoftwarePacket,
                          "esp_software_packet",
                          requireReached));
    return c;
}

} // namespace ns3
