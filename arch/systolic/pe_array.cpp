#include "arch/systolic/pe_array.h"

#include <algorithm>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "arch/systolic/fold_timing.h"

namespace tessel::arch {

namespace {

const sc_core::sc_time kClockPeriod(1.0, sc_core::SC_NS);

// A value on a wire between PEs; `valid` marks the cycles that carry one. `tag` says where
// it belongs: an operand's fold, a load value's row; sums do not need one.
template <typename T>
struct Token {
  T value = 0;
  bool valid = false;
  uint64_t tag = 0;
  bool operator==(const Token& other) const {
    return value == other.value && valid == other.valid && tag == other.tag;
  }
};
using Int8Token = Token<int8_t>;
using Int32Token = Token<int32_t>;

// sc_signal prints its value in reports.
template <typename T>
std::ostream& operator<<(std::ostream& out, const Token<T>& token) {
  if (!token.valid) return out << '-';
  return out << int64_t{token.value} << '@' << token.tag;
}

// Generic ports: sc_in<T> would also demand an sc_trace overload for each token type.
template <typename T>
using WireIn = sc_core::sc_port<sc_core::sc_signal_in_if<T>>;

// A PE's progress through the folds, from the fold tags of the operands it multiplies. Every
// PE sees every fold, in order, with exactly `macs_per_fold` operands (padding included).
class FoldProgress {
 public:
  explicit FoldProgress(uint64_t macs_per_fold) : macs_per_fold_(macs_per_fold) {}

  // Counts a MAC on an operand of `fold`; true when it is the PE's first of that fold.
  bool record_mac(uint64_t fold) {
    const bool first = macs_ == 0 || fold != fold_;
    if (first) {
      fold_ = fold;
      macs_ = 0;
    }
    ++macs_;
    return first;
  }
  // Whether the MAC just recorded was the last of its fold.
  bool fold_complete() const { return macs_ == macs_per_fold_; }
  // How many folds this PE has done all its MACs of.
  uint64_t folds_done() const { return fold_complete() ? fold_ + 1 : fold_; }

 private:
  const uint64_t macs_per_fold_;
  uint64_t fold_ = 0;
  uint64_t macs_ = 0;
};

// Output-stationary PE: A moves right, B moves down, C accumulates in place. `capture` moves
// the sum into the result register, part of a chain that shifts down a row a cycle to the
// collector under the array. `column_drain` (the column's bottom PE took its sum last cycle)
// starts the shifting; taking the next sum stops it, so a sum waits in its register until
// every sum below it has moved on, and is never overwritten before it has moved on itself.
class OsPe final : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk{"clk"};
  sc_core::sc_in<bool> capture{"capture"};
  sc_core::sc_in<bool> column_drain{"column_drain"};
  WireIn<Int8Token> a_in{"a_in"};
  WireIn<Int8Token> b_in{"b_in"};
  WireIn<Int32Token> result_in{"result_in"};

  sc_core::sc_signal<Int8Token> a_reg{"a_reg"};
  sc_core::sc_signal<Int8Token> b_reg{"b_reg"};
  sc_core::sc_signal<Int32Token> result_reg{"result_reg"};
  sc_core::sc_signal<bool> captured_reg{"captured_reg"};
  sc_core::sc_signal<bool> fold_finished_reg{"fold_finished_reg"};  // the last MAC ended a fold
  sc_core::sc_signal<uint64_t> folds_done_reg{"folds_done_reg"};

  SC_HAS_PROCESS(OsPe);
  OsPe(sc_core::sc_module_name name, uint64_t macs_per_fold)
      : sc_module(name), progress_(macs_per_fold) {
    SC_METHOD(on_rising_edge);
    sensitive << clk.pos();
    dont_initialize();
  }

 private:
  // The finished sum leaves before this cycle's MAC, which may start the next fold's.
  void on_rising_edge() {
    move_result();
    const Int8Token a = a_in->read();
    const Int8Token b = b_in->read();
    bool finished = false;
    if (a.valid && b.valid) {
      progress_.record_mac(a.tag);
      accumulator_ += a.value * b.value;
      finished = progress_.fold_complete();
    }
    a_reg.write(a);
    b_reg.write(b);
    fold_finished_reg.write(finished);
    folds_done_reg.write(progress_.folds_done());
  }

  void move_result() {
    if (column_drain.read()) shifting_ = true;
    if (capture.read()) {
      result_reg.write({accumulator_, true});
      accumulator_ = 0;
      shifting_ = false;
    } else if (shifting_) {
      result_reg.write(result_in->read());
    }
    captured_reg.write(capture.read());
  }

  FoldProgress progress_;
  int32_t accumulator_ = 0;
  bool shifting_ = false;
};

// Weight- and input-stationary PE (the same hardware; they differ in what is fed where). The
// stationary operand shifts down the column's load chain to its row; the moving operand
// passes right and the partial sum from above passes down with this PE's product added.
class StationaryPe final : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk{"clk"};
  WireIn<Int8Token> load_in{"load_in"};
  WireIn<Int8Token> moving_in{"moving_in"};
  WireIn<Int32Token> psum_in{"psum_in"};

  sc_core::sc_signal<Int8Token> load_reg{"load_reg"};
  sc_core::sc_signal<Int8Token> moving_reg{"moving_reg"};
  sc_core::sc_signal<Int32Token> psum_reg{"psum_reg"};
  sc_core::sc_signal<uint64_t> folds_done_reg{"folds_done_reg"};

  SC_HAS_PROCESS(StationaryPe);
  StationaryPe(sc_core::sc_module_name name, uint32_t row, uint64_t macs_per_fold,
               bool double_buffered)
      : sc_module(name), row_(row), double_buffered_(double_buffered), progress_(macs_per_fold) {
    SC_METHOD(on_rising_edge);
    sensitive << clk.pos();
    dont_initialize();
  }

 private:
  void on_rising_edge() {
    const Int8Token moving = moving_in->read();
    if (moving.valid) {
      const bool fold_starts = progress_.record_mac(moving.tag);
      if (fold_starts && double_buffered_) stationary_ = load_reg.read().value;
      psum_reg.write({psum_in->read().value + moving.value * stationary(), true});
    } else {
      psum_reg.write({});
    }
    take_load();
    moving_reg.write(moving);
    folds_done_reg.write(progress_.folds_done());
  }

  // Double-buffered, the copy frees the load register for the next fold's tile.
  int8_t stationary() const { return double_buffered_ ? stationary_ : load_reg.read().value; }

  // Only a value bound for this row or one below: the row above goes on showing its own
  // value once it has it, and taking that would disturb this row before the load wave (and
  // so the current fold's operands, which this row may still be using) reaches it.
  void take_load() {
    const Int8Token load = load_in->read();
    if (load.valid && load.tag >= row_) load_reg.write(load);
  }

  const uint32_t row_;
  const bool double_buffered_;
  FoldProgress progress_;
  int8_t stationary_ = 0;  // double-buffered: the working copy of load_reg for this fold
};

// Which GEMM dimensions lie on the array's rows and columns and which streams in time.
struct DataflowExtent {
  uint64_t spatial_rows;
  uint64_t spatial_cols;
  uint64_t temporal;
};

DataflowExtent extent_of(Dataflow dataflow, const Int8Gemm& gemm) {
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return {gemm.m, gemm.n, gemm.k};
    case Dataflow::WeightStationary:
      return {gemm.k, gemm.n, gemm.m};
    case Dataflow::InputStationary:
      return {gemm.k, gemm.m, gemm.n};
  }
  throw std::invalid_argument("unknown dataflow");
}

void check_pe_array_input(const ArraySpec& array, const Int8Gemm& gemm) {
  if (array.rows == 0 || array.cols == 0) {
    throw std::invalid_argument("PE-level array needs at least one row and one column");
  }
  if (array.rows > kPeArrayMaxSide || array.cols > kPeArrayMaxSide) {
    throw std::invalid_argument(
        "PE-level array is limited to " + std::to_string(kPeArrayMaxSide) + "x" +
        std::to_string(kPeArrayMaxSide) + " (got " + std::to_string(array.rows) + "x" +
        std::to_string(array.cols) + "): every PE is a SystemC process with its own signals, "
        "too slow for larger arrays");
  }
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) {
    throw std::invalid_argument("PE-level GEMM needs m, n and k of at least 1");
  }
  if (gemm.a.size() != uint64_t{gemm.m} * gemm.k || gemm.b.size() != uint64_t{gemm.k} * gemm.n) {
    throw std::invalid_argument("PE-level GEMM operands do not match m, n and k");
  }
}

}  // namespace

namespace pe_array_detail {

// Where one fold's tile starts in the GEMM's spatial extent.
struct Fold {
  uint64_t row_offset;
  uint64_t col_offset;
};

// Which fold an edge wire carries at some cycle, and how far into its window.
struct FoldStep {
  uint64_t fold;
  uint64_t step;
};

// The PEs and wires of one dataflow, with the feeders at the left and top edges and the
// output accumulator under the bottom row. PeArray decides when each fold starts.
class Grid {
 public:
  Grid(const ArraySpec& array, Int8Gemm gemm)
      : rows_(array.rows),
        cols_(array.cols),
        extent_(extent_of(array.dataflow, gemm)),
        folds_(fold_grid(array, extent_.spatial_rows, extent_.spatial_cols)),
        gemm_(std::move(gemm)),
        c_(uint64_t{gemm_.m} * gemm_.n, 0) {}
  virtual ~Grid() = default;
  Grid(const Grid&) = delete;
  Grid& operator=(const Grid&) = delete;

  uint64_t folds() const { return folds_.folds(); }
  uint64_t folds_started() const { return starts_.size(); }
  uint64_t last_start() const { return starts_.back(); }
  // The cycles each fold streams for: its temporal extent at one MAC a PE a cycle.
  uint64_t temporal() const { return extent_.temporal; }
  const std::vector<int32_t>& c() const { return c_; }

  // Starts feeding the next fold at `cycle`.
  void start_fold(uint64_t cycle) { starts_.push_back(cycle); }
  // Drives the edges for `cycle`; the PEs latch them at the next rising edge.
  virtual void drive_edges(uint64_t cycle) = 0;
  // Adds the results that reached the bottom edge into C.
  virtual void collect_outputs() = 0;
  // How many folds every PE has done all its MACs of.
  virtual uint64_t folds_done() const = 0;
  // Whether results are still inside the array. Asked of the array itself, not of what has
  // been collected, so a model that lost a result ends with a wrong C instead of hanging.
  virtual bool outputs_pending() const = 0;

 protected:
  uint64_t pe_index(uint32_t row, uint32_t col) const { return uint64_t{row} * cols_ + col; }
  Fold fold(uint64_t index) const {
    return {index / folds_.col_folds * rows_, index % folds_.col_folds * cols_};
  }

  // The fold whose window on a wire (from `delay` cycles after the fold starts, `length`
  // cycles long) covers `cycle`. Folds start far enough apart that the windows of one wire
  // never overlap, so only the latest fold to reach the wire can cover it.
  std::optional<FoldStep> step_at(uint64_t cycle, uint64_t delay, uint64_t length) const {
    if (cycle < delay) return std::nullopt;
    const auto later = std::upper_bound(starts_.begin(), starts_.end(), cycle - delay);
    if (later == starts_.begin()) return std::nullopt;
    const auto fold_index = static_cast<uint64_t>(later - starts_.begin()) - 1;
    const uint64_t step = cycle - delay - starts_[fold_index];
    if (step >= length) return std::nullopt;
    return FoldStep{fold_index, step};
  }

  // Operands and results by GEMM index; outside the GEMM the operands are the zero padding
  // of a partial fold and the results are dropped.
  int8_t a(uint64_t m, uint64_t k) const {
    return m < gemm_.m && k < gemm_.k ? gemm_.a[m * gemm_.k + k] : int8_t{0};
  }
  int8_t b(uint64_t k, uint64_t n) const {
    return k < gemm_.k && n < gemm_.n ? gemm_.b[k * gemm_.n + n] : int8_t{0};
  }
  void add_to_c(uint64_t m, uint64_t n, int32_t value) {
    if (m < gemm_.m && n < gemm_.n) c_[m * gemm_.n + n] += value;
  }

  const uint32_t rows_;
  const uint32_t cols_;

 private:
  const DataflowExtent extent_;
  const FoldGrid folds_;
  const Int8Gemm gemm_;
  std::vector<int32_t> c_;
  std::vector<uint64_t> starts_;  // the cycle each started fold started at
};

namespace {

template <typename Pe>
uint64_t folds_done_by_every_pe(const sc_core::sc_vector<Pe>& pes) {
  const auto least = std::min_element(pes.begin(), pes.end(), [](const Pe& x, const Pe& y) {
    return x.folds_done_reg.read() < y.folds_done_reg.read();
  });
  return least->folds_done_reg.read();
}

class OsGrid final : public Grid {
 public:
  OsGrid(const ArraySpec& array, Int8Gemm gemm, sc_core::sc_clock& clock)
      : Grid(array, std::move(gemm)), left_("left", rows_), top_("top", cols_), collected_(cols_) {
    pes_.init(uint64_t{rows_} * cols_,
              [this](const char* name, size_t) { return new OsPe(name, temporal()); });
    OsPe& last = pes_[pe_index(rows_ - 1, cols_ - 1)];
    for (uint32_t row = 0; row < rows_; ++row) {
      for (uint32_t col = 0; col < cols_; ++col) {
        OsPe& pe = pes_[pe_index(row, col)];
        pe.clk(clock);
        // Single-buffered, the sums leave together once the last PE has finished the fold.
        pe.capture(array.weights_double_buffered ? pe.fold_finished_reg : last.fold_finished_reg);
        pe.column_drain(pes_[pe_index(rows_ - 1, col)].captured_reg);
        pe.a_in(col == 0 ? left_[row] : pes_[pe_index(row, col - 1)].a_reg);
        pe.b_in(row == 0 ? top_[col] : pes_[pe_index(row - 1, col)].b_reg);
        pe.result_in(row == 0 ? no_result_ : pes_[pe_index(row - 1, col)].result_reg);
      }
    }
  }

  void drive_edges(uint64_t cycle) override {
    for (uint32_t row = 0; row < rows_; ++row) {
      Int8Token token;
      if (const auto at = step_at(cycle, row, temporal())) {
        token = {a(fold(at->fold).row_offset + row, at->step), true, at->fold};
      }
      left_[row].write(token);
    }
    for (uint32_t col = 0; col < cols_; ++col) {
      Int8Token token;
      if (const auto at = step_at(cycle, col, temporal())) {
        token = {b(at->step, fold(at->fold).col_offset + col), true, at->fold};
      }
      top_[col].write(token);
    }
  }

  // Each column's chain delivers a fold's results bottom row first, fold after fold.
  void collect_outputs() override {
    for (uint32_t col = 0; col < cols_; ++col) {
      const Int32Token result = pes_[pe_index(rows_ - 1, col)].result_reg.read();
      if (!result.valid) continue;
      const uint64_t taken = collected_[col]++;
      const Fold tile = fold(taken / rows_);
      const uint64_t row = rows_ - 1 - taken % rows_;
      add_to_c(tile.row_offset + row, tile.col_offset + col, result.value);
    }
  }

  uint64_t folds_done() const override { return folds_done_by_every_pe(pes_); }

  // A sum is in the array while it waits to be taken or sits in a result register.
  bool outputs_pending() const override {
    return std::any_of(pes_.begin(), pes_.end(), [](const OsPe& pe) {
      return pe.capture.read() || pe.result_reg.read().valid;
    });
  }

 private:
  sc_core::sc_vector<OsPe> pes_{"pe"};
  sc_core::sc_vector<sc_core::sc_signal<Int8Token>> left_;
  sc_core::sc_vector<sc_core::sc_signal<Int8Token>> top_;
  sc_core::sc_signal<Int32Token> no_result_{"no_result"};
  std::vector<uint64_t> collected_;  // results taken, per column
};

// ws: B[k][n] stays at PE(k, n); A[m][k] streams into row k; column n yields C[m][n].
// is: A[m][k] stays at PE(k, m); B[k][n] streams into row k; column m yields C[m][n].
class StationaryGrid final : public Grid {
 public:
  StationaryGrid(const ArraySpec& array, Int8Gemm gemm, sc_core::sc_clock& clock)
      : Grid(array, std::move(gemm)),
        inputs_stationary_(array.dataflow == Dataflow::InputStationary),
        left_("left", rows_),
        top_("top", cols_),
        collected_(cols_) {
    pes_.init(uint64_t{rows_} * cols_, [this, &array](const char* name, size_t index) {
      return new StationaryPe(name, static_cast<uint32_t>(index / cols_), temporal(),
                              array.weights_double_buffered);
    });
    for (uint32_t row = 0; row < rows_; ++row) {
      for (uint32_t col = 0; col < cols_; ++col) {
        StationaryPe& pe = pes_[pe_index(row, col)];
        pe.clk(clock);
        pe.load_in(row == 0 ? top_[col] : pes_[pe_index(row - 1, col)].load_reg);
        pe.moving_in(col == 0 ? left_[row] : pes_[pe_index(row, col - 1)].moving_reg);
        pe.psum_in(row == 0 ? no_psum_ : pes_[pe_index(row - 1, col)].psum_reg);
      }
    }
  }

  // Load: column `col` takes the values for rows rows-1 down to 0 in fold cycles col to
  // col+rows-1, a cycle behind the column to its left like the operands. Stream: row k's
  // operands follow from fold cycle rows+k.
  void drive_edges(uint64_t cycle) override {
    for (uint32_t col = 0; col < cols_; ++col) {
      Int8Token token;
      if (const auto at = step_at(cycle, col, rows_)) {
        const uint64_t row = rows_ - 1 - at->step;
        const Fold tile = fold(at->fold);
        token = {stationary(tile.row_offset + row, tile.col_offset + col), true, row};
      }
      top_[col].write(token);
    }
    for (uint32_t row = 0; row < rows_; ++row) {
      Int8Token token;
      if (const auto at = step_at(cycle, uint64_t{rows_} + row, temporal())) {
        token = {moving(fold(at->fold).row_offset + row, at->step), true, at->fold};
      }
      left_[row].write(token);
    }
  }

  // Each column's sums leave the bottom row in stream order, fold after fold.
  void collect_outputs() override {
    for (uint32_t col = 0; col < cols_; ++col) {
      const Int32Token psum = pes_[pe_index(rows_ - 1, col)].psum_reg.read();
      if (!psum.valid) continue;
      const uint64_t taken = collected_[col]++;
      add_output(fold(taken / temporal()).col_offset + col, taken % temporal(), psum.value);
    }
  }

  uint64_t folds_done() const override { return folds_done_by_every_pe(pes_); }

  bool outputs_pending() const override {
    return std::any_of(pes_.begin(), pes_.end(),
                       [](const StationaryPe& pe) { return pe.psum_reg.read().valid; });
  }

 private:
  int8_t stationary(uint64_t k, uint64_t col) const {
    return inputs_stationary_ ? a(col, k) : b(k, col);
  }
  int8_t moving(uint64_t k, uint64_t step) const {
    return inputs_stationary_ ? b(k, step) : a(step, k);
  }
  void add_output(uint64_t col, uint64_t step, int32_t value) {
    if (inputs_stationary_) {
      add_to_c(col, step, value);
    } else {
      add_to_c(step, col, value);
    }
  }

  const bool inputs_stationary_;
  sc_core::sc_vector<StationaryPe> pes_{"pe"};
  sc_core::sc_vector<sc_core::sc_signal<Int8Token>> left_;
  sc_core::sc_vector<sc_core::sc_signal<Int8Token>> top_;
  sc_core::sc_signal<Int32Token> no_psum_{"no_psum"};
  std::vector<uint64_t> collected_;  // sums taken, per column
};

std::unique_ptr<Grid> make_grid(const ArraySpec& array, Int8Gemm gemm, sc_core::sc_clock& clock) {
  if (array.dataflow == Dataflow::OutputStationary) {
    return std::make_unique<OsGrid>(array, std::move(gemm), clock);
  }
  return std::make_unique<StationaryGrid>(array, std::move(gemm), clock);
}

}  // namespace
}  // namespace pe_array_detail

PeArray::PeArray(sc_core::sc_module_name name, const ArraySpec& array, Int8Gemm gemm,
                 std::optional<uint64_t> cycle_limit)
    : sc_module(name), clock_("clock", kClockPeriod), cycle_limit_(cycle_limit) {
  check_pe_array_input(array, gemm);
  grid_ = pe_array_detail::make_grid(array, std::move(gemm), clock_);
  // The sequencer's issue rule, not a count: the model checks it is safe, since starting a
  // fold earlier would overwrite stationary values or results still in use.
  if (array.weights_double_buffered) {
    fold_interval_ = std::max(grid_->temporal(), uint64_t{array.rows});
  }
  SC_METHOD(on_falling_edge);
  sensitive << clock_.negedge_event();
  dont_initialize();
}

PeArray::~PeArray() = default;

const std::vector<int32_t>& PeArray::c() const { return grid_->c(); }

// The controller. PEs latch on the rising edge; on the falling edge between two rising
// edges it counts the cycle just ended, collects outputs, reads the PEs' fold counters,
// starts folds and drives the edges for the next cycle.
void PeArray::on_falling_edge() {
  if (phase_ == Phase::Idle) {
    phase_ = Phase::Computing;
  } else {
    ++cycle_;
    grid_->collect_outputs();
  }
  if (phase_ == Phase::Computing) {
    cycles_ = cycle_;
    if (grid_->folds_done() == grid_->folds()) {
      finished_ = true;
      phase_ = Phase::Draining;
    } else if (limit_reached()) {
      sc_core::sc_stop();
      return;
    } else if (next_fold_due()) {
      grid_->start_fold(cycle_);
    }
  }
  if (phase_ == Phase::Draining && !grid_->outputs_pending()) {
    sc_core::sc_stop();
    return;
  }
  grid_->drive_edges(cycle_);
}

// Single-buffered, a fold starts the cycle after every PE has finished the previous one;
// double-buffered, a fixed interval after the previous one started.
bool PeArray::next_fold_due() const {
  const uint64_t started = grid_->folds_started();
  if (started == grid_->folds()) return false;
  if (fold_interval_ && started > 0) return cycle_ - grid_->last_start() == *fold_interval_;
  return grid_->folds_done() == started;
}

}  // namespace tessel::arch
