// Importer of Vidur's profiling CSVs (microsoft/vidur: compute/<gpu>/<model>.mlp.csv,
// attention.csv, network/<node>/all_reduce.csv) into kvsim's measured-operator rows, so a
// user's existing Vidur profiles can be fitted and validated as they are.
#pragma once

#include <string>
#include <vector>

#include "models/compute/calibration/operator_table.hpp"

namespace kvsim::compute {

struct VidurImport {
  std::vector<MeasuredKernel> rows;
  std::size_t skipped = 0;  // all-reduce rows spanning nodes (another interconnect), not imported
  std::string kind;         // "mlp", "attention" or "all_reduce"
};

// Medians of the file's kernels, in seconds, for GPU card `gpu`; the kind is detected from the
// header. Throws InputError naming file, line and column on anything malformed.
VidurImport import_vidur_csv(const std::string& text, const std::string& source, const std::string& gpu,
                             const std::string& model);

}  // namespace kvsim::compute
