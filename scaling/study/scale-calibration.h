// The one set of stage costs, fitted to the reference's 1-CPU cells of baseline, software IPsec
// and crypto offload; every other cell, packet offload's 1-CPU cell included, is predicted.
#ifndef SCALE_CALIBRATION_H
#define SCALE_CALIBRATION_H

#include "machine-costs.h"
#include "scale-cell.h"

#include <string>
#include <vector>

namespace ns3
{

struct ScaleFitStep
{
    std::string parameter; //!< the ScaleCosts field fitted
    ScaleMode mode;        //!< from this mode's 1-CPU cell
    double value{0};       //!< cycles
    double simulatedGbps{0};
    double referenceGbps{0};
    uint32_t rounds{0}; //!< simulations it took
    bool reached{true}; //!< within 1 % of the reference (false: even no cost is too slow)
};

struct ScaleCalibration
{
    ScaleCosts costs;
    std::vector<ScaleFitStep> steps;
};

/**
 * Fits, in order, driverPacket to baseline's 1-CPU cell, xfrmPacket to crypto offload's and
 * espSoftwarePacket to software's, each by the secant method on simulated cells until the cell
 * is within 0.1 % of the reference. cell gives everything else (the reference's link, MTU,
 * clock); the cipher and the copy come from machine, the cipher times cipherFactor. A step
 * that cannot reach its cell even at a cost of 0 (the measured costs alone are too slow) ends
 * near 0 with reached false; requireReached makes that an exception instead.
 */
ScaleCalibration Calibrate(const ScaleCellConfig& cell,
                           const MachineCosts& machine,
                           double cipherFactor,
                           bool requireReached = true);

} // namespace ns3

#endif // SCALE_CALIBRATION_H
