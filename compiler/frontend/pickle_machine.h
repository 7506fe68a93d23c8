// A restricted interpreter for Python pickles: enough of protocols 0-5 to read plain data
// (numbers, strings, bytes, tuples, lists, dicts) and the few objects torch.save emits.
//
// Hand-written on purpose: there is no maintained C++ library that unpickles with an
// allow-list of globals (Python's own pickle imports and calls whatever the file names).
// Here a global is only ever a name. The interpreter calls one (REDUCE, NEWOBJ) only after
// its Host allowed that exact "module.name", and the Host decides what the call builds;
// nothing is imported or executed. Stack, memo and nesting depth are bounded, and every
// read is bounds-checked, so a hostile pickle can only produce an m1c::Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace m1c::pickle {

// Something a Host builds for an allowed call (a torch storage, a tensor). Opaque here.
struct Object {
    virtual ~Object() = default;
    virtual std::string type_name() const = 0;  // for messages: "tensor", "storage"
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
    enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object };

    Kind kind = Kind::None;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0.0;
    std::string text;             // String and Bytes content; Global as "module.name"
    std::vector<ValuePtr> items;  // Tuple and List
    // Dict, in insertion order. A repeated key is appended again rather than replaced
    // (no hashing of arbitrary values): readers take the last entry, as Python would.
    std::vector<std::pair<ValuePtr, ValuePtr>> entries;
    std::shared_ptr<pickle::Object> object;  // Object

    // Interpreter bookkeeping. `depth` is the container nesting below this value (bounded so
    // destruction and later walks cannot overflow the C++ stack). `embedded` is set once the
    // value is placed inside another container: embedded lists and dicts are never mutated
    // again, which makes reference cycles impossible. Python's pickler only ever fills a
    // container before embedding it, except for self-referencing data, which we refuse.
    int depth = 0;
    bool embedded = false;
};

const char *kind_name(Value::Kind kind);
std::string describe(const Value &value);  // short, for messages: "int 3", "str 'epoch'"

// The value stored under string key `key` in dict `dict` (the last one if repeated), or null.
const Value *dict_find(const Value &dict, const std::string &key);

// What the interpreter asks of the format it is reading (torch.save, ...). Host methods
// report problems by throwing m1c::Error with a message that does not name the file: the
// interpreter adds the file, the pickle entry, the byte offset and the opcode.
class Host {
public:
    virtual ~Host() = default;
    // True if REDUCE / NEWOBJ may call the global "module.name". Anything else is refused.
    virtual bool allows_call(const std::string &global) const = 0;
    // Builds the result of calling an allowed global with positional arguments `args`.
    virtual ValuePtr call(const std::string &global, const std::vector<ValuePtr> &args) = 0;
    // Resolves a persistent id (BINPERSID / PERSID), e.g. torch's ('storage', ...) tuples.
    virtual ValuePtr persistent_load(const Value &pid) = 0;
};

// Where the pickle came from, for messages: "<file>: pickle opcode ... at <entry>:<offset>".
struct Source {
    std::string file;
    std::string entry;
};

// Runs the pickle in [data, data + size) up to its STOP opcode and returns the result.
// Throws m1c::Error starting with source.file on any malformed, truncated or refused input.
ValuePtr unpickle(const uint8_t *data, size_t size, Host &host, const Source &source);

}  // namespace m1c::pickle
