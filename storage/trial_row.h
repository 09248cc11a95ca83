// How a trial is laid out in the trials table: its proto without the
// learning curve (measurements live in their own table, one row each, so an
// update does not rewrite the curve and an append does not rewrite the
// trial).
//
// Thread-safety: pure functions.
#ifndef CAVIAR_STORAGE_TRIAL_ROW_H_
#define CAVIAR_STORAGE_TRIAL_ROW_H_

#include <string>

#include "caviar/v1/trial.pb.h"

namespace caviar::storage {

// Writes the wire form of `trial` minus its measurements into *out,
// reusing out's capacity. Parsing the result gives `trial` with
// measurements cleared.
void SerializeTrialRow(const caviar::v1::Trial& trial, std::string* out);

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_TRIAL_ROW_H_
