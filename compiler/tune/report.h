// What `m1c tune` prints while it runs: times, the progress line's estimate of the model.
#pragma once
#include <string>
#include <vector>

#include "tune/op_search.h"
#include "tune/record_book.h"

namespace m1c::tune {

std::string fmt_ms(double ms);       // "0.081", "4.84"
std::string fmt_elapsed(double s);   // "1m37s"

// The model's estimated latency from every measurement so far (the book's records of this
// device, batches not yet applied to the search included): per op key its fastest time and
// its default configuration's, minus the measurement graph's producer and head, times the
// number of ops with that key. `top` is the key with the most estimated time.
struct ModelEstimate {
    double tuned = 0, def = 0;
    const KeyState *top = nullptr;
    double top_best = 0, top_default = 0;
};
ModelEstimate estimate_model(const std::vector<KeyState> &keys, const RecordBook &book);

}  // namespace m1c::tune
