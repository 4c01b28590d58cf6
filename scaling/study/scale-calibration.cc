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
    // Regula falsi (Illinois) on a bracket [lo, hi] with rate(lo) above the reference and
    // rate(hi) below, found by stepping out from the first guess; a cost never goes below 0.
    // The best point seen is the answer.
    double best = costs->*field;
    double bestRate = 0;
    double bestGap = 1e300;
    const auto try_ = [&](double x) {
        const auto [rate, f] = error(x);
        if (std::fabs(rate - step.referenceGbps) < bestGap)
        {
            bestGap = std::fabs(rate - step.referenceGbps);
            best = x;
            bestRate = rate;
        }
        return f;
    };
    const double tolerance = 0.001 * step.referenceGbps;
    double lo = costs->*field;
    double flo = try_(lo);
    double hi = lo;
    double fhi = flo;
    // Step out until the sign changes: up while too fast, down (towards 0) while too slow.
    while (bestGap > tolerance && step.rounds < 16 && (flo < 0) == (fhi < 0))
    {
        if (flo < 0)
        {
            lo = hi;
            flo = fhi;
            hi = hi * 2 + 100;
            fhi = try_(hi);
        }
        else if (lo == 0)
        {
            break; // too slow even at no cost
        }
        else
        {
            hi = lo;
            fhi = flo;
            lo = lo / 4 < 1 ? 0 : lo / 4;
            flo = try_(lo);
        }
    }
    int side = 0;
    while (bestGap > tolerance && step.rounds < 16 && (flo < 0) != (fhi < 0))
    {
        const double x = hi - fhi * (hi - lo) / (fhi - flo);
        const double fx = try_(x);
        if ((fx < 0) == (flo < 0))
        {
            lo = x;
            flo = fx;
            fhi = side == -1 ? fhi / 2 : fhi; // Illinois: halve the stale end
            side = -1;
        }
        else
        {
            hi = x;
            fhi = fx;
            flo = side == 1 ? flo / 2 : flo;
            side = 1;
        }
    }
    if (lo == 0 && flo > 0)
    {
        // Too slow even at no cost: say so at 0, whatever the noise among near-zero costs.
        best = 0;
        bestRate = 1 / (flo + 1 / step.referenceGbps);
    }
    costs->*field = best;
    const double x1 = best;
    const double r1 = bestRate;
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
