#pragma once
// The two ceilings every benchmark figure is compared with, measured on the device in use:
// the bf16 matrix-product rate and the device-memory copy bandwidth.

#include "result.h"

#include <string>

namespace sala::cuda {

struct DeviceCeilings {
    std::string device;
    double gemmTflops = 0; // bf16 in, fp32 accumulate, 8192^3 through cuBLASLt
    double copyGBs = 0;    // device-to-device copy, bytes read plus written
    double totalMemoryGiB = 0;
};

Result<DeviceCeilings> measureCeilings();

} // namespace sala::cuda
