#include "frontend/pickle_machine.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace m1c::pickle {
namespace {

// Limits far above anything a real checkpoint needs. Python's pickler batches APPENDS and
// SETITEMS by 1000, so the stack stays small; nesting is limited in Python by its recursion
// limit; torch.save memoizes a handful of values per tensor.
constexpr size_t kMaxStack = size_t{1} << 20;
constexpr size_t kMaxMemo = size_t{1} << 22;
constexpr int kMaxDepth = 200;
constexpr size_t kMaxLine = 1024;  // text arguments: GLOBAL names, protocol-0 numbers
constexpr int kHighestProtocol = 5;

// Every opcode of protocols 0-5, so that even unsupported ones are reported by name.
const char *opcode_name(uint8_t op) {
    switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
    }
}

// Text from the file goes into messages: escape control bytes and cap the length.
std::string printable(const std::string &text) {
    constexpr size_t kMax = 200;
    std::string out;
    for (size_t i = 0; i < text.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (text.size() > kMax) out += "...";
    return out;
}

ValuePtr make(Value::Kind kind) {
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
}

ValuePtr make_int(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->integer = i;
    return v;
}

ValuePtr make_bool(bool b) {
    auto v = make(Value::Kind::Bool);
    v->boolean = b;
    return v;
}

ValuePtr make_text(Value::Kind kind, std::string text) {
    auto v = make(kind);
    v->text = std::move(text);
    return v;
}

// One run of the interpreter over one pickle.
class Machine {
public:
    Machine(const uint8_t *data, size_t size, Host &host, const Source &source)
        : data_(data), size_(size), host_(host), source_(source) {}

    ValuePtr run() {
        while (pos_ < size_) {
            op_pos_ = pos_;
            op_ = data_[pos_++];
            if (op_ == '.') return pop();  // STOP
            step();
        }
        throw Error(source_.file + ": pickle " + source_.entry + " ends without a STOP opcode "
                    "after " + std::to_string(size_) + " bytes (truncated?)");
    }

private:
    [[noreturn]] void fail(const std::string &problem) const {
        char code[8];
        std::snprintf(code, sizeof code, "0x%02x", op_);
        const char *name = opcode_name(op_);
        throw Error(source_.file + ": pickle opcode " + code + " (" +
                    (name ? name : "unknown") + ") at " + source_.entry + ":" +
                    std::to_string(op_pos_) + ": " + problem);
    }

    // ---- reading arguments ----

    const uint8_t *take(uint64_t n) {
        if (n > size_ - pos_)
            fail("truncated: needs " + std::to_string(n) + " bytes, " +
                 std::to_string(size_ - pos_) + " left");
        const uint8_t *p = data_ + pos_;
        pos_ += static_cast<size_t>(n);
        return p;
    }

    uint64_t read_le(int bytes) {
        const uint8_t *p = take(static_cast<uint64_t>(bytes));
        uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
        return v;
    }

    std::string read_bytes(uint64_t n) {
        const uint8_t *p = take(n);
        return std::string(reinterpret_cast<const char *>(p), static_cast<size_t>(n));
    }

    // A newline-terminated argument of the text opcodes (protocol 0 and GLOBAL).
    std::string read_line() {
        const size_t limit = std::min(size_ - pos_, kMaxLine);
        const void *nl = std::memchr(data_ + pos_, '\n', limit);
        if (!nl) fail("text argument has no newline within " + std::to_string(limit) + " bytes");
        const size_t len = static_cast<const uint8_t *>(nl) - (data_ + pos_);
        std::string line(reinterpret_cast<const char *>(data_ + pos_), len);
        pos_ += len + 1;
        return line;
    }

    int64_t parse_int(std::string text) {
        if (!text.empty() && text.back() == 'L') text.pop_back();  // protocol-0 LONG suffix
        const char *begin = text.data();
        if (!text.empty() && text[0] == '+') ++begin;
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty())
            fail("'" + printable(text) + "' is not an integer that fits 64 bits");
        return v;
    }

    // LONG1 / LONG4: little-endian two's complement of n bytes.
    int64_t read_long(uint64_t n) {
        if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit 64 bits");
        const uint8_t *p = take(n);
        if (n == 0) return 0;
        uint64_t v = 0;
        for (uint64_t i = n; i-- > 0;) v = (v << 8) | p[i];
        if (n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        int64_t s;
        std::memcpy(&s, &v, sizeof s);
        return s;
    }

    double read_binfloat() {
        const uint8_t *p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian, unlike the rest
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }

    // ---- the stack ----

    size_t frame_base() const { return marks_.empty() ? 0 : marks_.back(); }

    void push(ValuePtr v) {
        if (stack_.size() >= kMaxStack) fail("stack grows beyond " + std::to_string(kMaxStack));
        stack_.push_back(std::move(v));
    }

    ValuePtr pop() {
        if (stack_.size() <= frame_base()) fail("stack underflow");
        ValuePtr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }

    Value &top() {
        if (stack_.size() <= frame_base()) fail("stack underflow");
        return *stack_.back();
    }

    std::vector<ValuePtr> pop_mark() {
        if (marks_.empty()) fail("no MARK on the stack");
        const size_t base = marks_.back();
        marks_.pop_back();
        std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + base),
                                    std::make_move_iterator(stack_.end()));
        stack_.resize(base);
        return items;
    }

    // ---- containers ----

    // Places `child` inside `parent`, keeping depth bounded and cycles impossible.
    void embed(Value &parent, const ValuePtr &child) {
        if (child.get() == &parent) fail("a container that contains itself is not supported");
        child->embedded = true;
        parent.depth = std::max(parent.depth, child->depth + 1);
        if (parent.depth > kMaxDepth)
            fail("containers nest deeper than " + std::to_string(kMaxDepth));
    }

    Value &mutable_container(Value::Kind kind) {
        Value &c = top();
        if (c.kind != kind)
            fail(std::string("expects a ") + kind_name(kind) + " on the stack, found " +
                 describe(c));
        if (c.embedded)
            fail(std::string("modifies a ") + kind_name(kind) +
                 " that is already inside another container (self-referencing data is not "
                 "supported)");
        return c;
    }

    ValuePtr make_sequence(Value::Kind kind, std::vector<ValuePtr> items) {
        auto v = make(kind);
        for (const auto &item : items) embed(*v, item);
        v->items = std::move(items);
        return v;
    }

    void append_items(std::vector<ValuePtr> items) {
        Value &list = mutable_container(Value::Kind::List);
        for (auto &item : items) {
            embed(list, item);
            list.items.push_back(std::move(item));
        }
    }

    void set_items(Value &dict, std::vector<ValuePtr> items) {
        if (items.size() % 2 != 0) fail("odd number of items for a dict");
        for (size_t i = 0; i < items.size(); i += 2) {
            embed(dict, items[i]);
            embed(dict, items[i + 1]);
            dict.entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
        }
    }

    // ---- memo ----

    void memo_put(uint64_t key) {
        if (memo_.size() >= kMaxMemo && !memo_.count(key))
            fail("memo grows beyond " + std::to_string(kMaxMemo) + " entries");
        if (stack_.size() <= frame_base()) fail("stack underflow");
        memo_[key] = stack_.back();
    }

    void memo_get(uint64_t key) {
        const auto it = memo_.find(key);
        if (it == memo_.end()) fail("memo key " + std::to_string(key) + " is not defined");
        push(it->second);
    }

    // ---- globals, calls, persistent ids ----

    void push_global(const std::string &module, const std::string &name) {
        if (module.empty() || name.empty()) fail("global with an empty module or name");
        // Only a name: nothing is imported. Calling it is checked in call_global().
        push(make_text(Value::Kind::Global, module + "." + name));
    }

    // Protocol 2 has no opcode for bytes: Python pickles b"..." as
    // _codecs.encode("<latin-1 text>", "latin1"), and b"" as bytes(). The interpreter
    // emulates exactly these two calls itself, as plain data; no codec is looked up.
    ValuePtr plain_data_call(const std::string &global, const Value &args) {
        if ((global == "builtins.bytes" || global == "__builtin__.bytes") && args.items.empty())
            return make(Value::Kind::Bytes);
        if (global != "_codecs.encode") return nullptr;
        if (args.items.size() != 2 || args.items[0]->kind != Value::Kind::String ||
            args.items[1]->kind != Value::Kind::String ||
            (args.items[1]->text != "latin1" && args.items[1]->text != "latin-1"))
            fail("_codecs.encode is only allowed as (text, 'latin1'), the encoding of bytes");
        // UTF-8 of code points below 256 -> one byte each.
        const std::string &utf8 = args.items[0]->text;
        std::string bytes;
        for (size_t i = 0; i < utf8.size(); ++i) {
            const auto c = static_cast<unsigned char>(utf8[i]);
            if (c < 0x80) {
                bytes += static_cast<char>(c);
            } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
                bytes += static_cast<char>(((c & 0x03) << 6) | (utf8[++i] & 0x3f));
            } else {
                fail("_codecs.encode text is not latin-1");
            }
        }
        return make_text(Value::Kind::Bytes, std::move(bytes));
    }

    void call_global() {
        const ValuePtr args = pop();
        const ValuePtr callable = pop();
        if (callable->kind != Value::Kind::Global)
            fail("calls " + describe(*callable) + ", which is not a global");
        if (args->kind == Value::Kind::Tuple) {
            if (ValuePtr bytes = plain_data_call(callable->text, *args)) {
                push(bytes);
                return;
            }
        }
        if (!host_.allows_call(callable->text))
            fail("calls a global that is not allowed: " + printable(callable->text));
        if (args->kind != Value::Kind::Tuple)
            fail("arguments of " + callable->text + " are " + describe(*args) + ", not a tuple");
        push(host_call([&] { return host_.call(callable->text, args->items); }));
    }

    template <typename F>
    ValuePtr host_call(F &&f) {
        ValuePtr result;
        try {
            result = f();
        } catch (const Error &e) {
            fail(e.what());
        }
        if (!result) fail("internal error: the reader returned nothing");
        return result;
    }

    // BUILD sets instance state. The only allowed objects with state are OrderedDicts, whose
    // state is attributes such as torch's `_metadata` (per-module versions): not part of the
    // mapping, so dropped.
    void build() {
        const ValuePtr state = pop();
        const Value &target = top();
        if (target.kind != Value::Kind::Dict)
            fail("sets the state of " + describe(target) + ", which is not supported");
        const auto is_attr_dict = [](const Value &v) {
            return v.kind == Value::Kind::Dict || v.kind == Value::Kind::None;
        };
        const bool ok = is_attr_dict(*state) ||
                        (state->kind == Value::Kind::Tuple && state->items.size() == 2 &&
                         is_attr_dict(*state->items[0]) && is_attr_dict(*state->items[1]));
        if (!ok) fail("sets the state of a dict to " + describe(*state));
    }

    // ---- dispatch ----

    void step() {
        switch (op_) {
        case 0x80: {  // PROTO
            const auto version = read_le(1);
            if (version > kHighestProtocol)
                fail("pickle protocol " + std::to_string(version) + " is not supported");
            return;
        }
        case 0x95: {  // FRAME: a buffering hint only; check it lies within the data
            const uint64_t length = read_le(8);
            if (length > size_ - pos_) fail("frame runs past the end (truncated?)");
            return;
        }
        case '(':
            if (marks_.size() >= kMaxStack) fail("too many MARKs");
            marks_.push_back(stack_.size());
            return;
        case '0':  // POP; like Python, an empty frame pops its MARK instead
            if (stack_.size() > frame_base()) pop();
            else pop_mark();
            return;
        case '1': pop_mark(); return;
        case '2':  // DUP
            top();  // underflow check
            push(stack_.back());
            return;

        // Constants and numbers.
        case 'N': push(make(Value::Kind::None)); return;
        case 0x88: push(make_bool(true)); return;
        case 0x89: push(make_bool(false)); return;
        case 'J': {
            const auto u = static_cast<uint32_t>(read_le(4));
            int32_t s;
            std::memcpy(&s, &u, sizeof s);
            push(make_int(s));
            return;
        }
        case 'K': push(make_int(static_cast<int64_t>(read_le(1)))); return;
        case 'M': push(make_int(static_cast<int64_t>(read_le(2)))); return;
        case 0x8a: push(make_int(read_long(read_le(1)))); return;
        case 0x8b: push(make_int(read_long(read_le(4)))); return;
        case 'I': {
            const std::string line = read_line();
            if (line == "00" || line == "01") push(make_bool(line == "01"));  // protocol-0 bools
            else push(make_int(parse_int(line)));
            return;
        }
        case 'L': push(make_int(parse_int(read_line()))); return;
        case 'G': {
            auto v = make(Value::Kind::Float);
            v->real = read_binfloat();
            push(v);
            return;
        }
        case 'F': {
            const std::string line = read_line();
            auto v = make(Value::Kind::Float);
            const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v->real);
            if (ec != std::errc() || end != line.data() + line.size())
                fail("'" + printable(line) + "' is not a float");
            push(v);
            return;
        }

        // Strings and bytes. Lengths are checked against the data left before any copy.
        case 'X': push(make_text(Value::Kind::String, read_bytes(read_le(4)))); return;
        case 0x8c: push(make_text(Value::Kind::String, read_bytes(read_le(1)))); return;
        case 0x8d: push(make_text(Value::Kind::String, read_bytes(read_le(8)))); return;
        case 'T': {
            const auto u = static_cast<uint32_t>(read_le(4));
            if (u > 0x7fffffffu) fail("negative string length");
            push(make_text(Value::Kind::String, read_bytes(u)));
            return;
        }
        case 'U': push(make_text(Value::Kind::String, read_bytes(read_le(1)))); return;
        case 'B': push(make_text(Value::Kind::Bytes, read_bytes(read_le(4)))); return;
        case 'C': push(make_text(Value::Kind::Bytes, read_bytes(read_le(1)))); return;
        case 0x8e: push(make_text(Value::Kind::Bytes, read_bytes(read_le(8)))); return;

        // Containers.
        case ')': push(make(Value::Kind::Tuple)); return;
        case ']': push(make(Value::Kind::List)); return;
        case '}': push(make(Value::Kind::Dict)); return;
        case 't': push(make_sequence(Value::Kind::Tuple, pop_mark())); return;
        case 'l': push(make_sequence(Value::Kind::List, pop_mark())); return;
        case 0x85: case 0x86: case 0x87: {
            std::vector<ValuePtr> items(op_ - 0x84);
            for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
            push(make_sequence(Value::Kind::Tuple, std::move(items)));
            return;
        }
        case 'd': {
            auto dict = make(Value::Kind::Dict);
            set_items(*dict, pop_mark());
            push(dict);
            return;
        }
        case 'a': { ValuePtr item = pop(); append_items({item}); return; }
        case 'e': append_items(pop_mark()); return;
        case 's': {
            ValuePtr value = pop();
            ValuePtr key = pop();
            set_items(mutable_container(Value::Kind::Dict), {key, value});
            return;
        }
        case 'u': {
            std::vector<ValuePtr> items = pop_mark();
            set_items(mutable_container(Value::Kind::Dict), std::move(items));
            return;
        }

        // Memo.
        case 'q': memo_put(read_le(1)); return;
        case 'r': memo_put(read_le(4)); return;
        case 'p': memo_put(static_cast<uint64_t>(parse_int(read_line()))); return;
        case 0x94: memo_put(memo_.size()); return;
        case 'h': memo_get(read_le(1)); return;
        case 'j': memo_get(read_le(4)); return;
        case 'g': memo_get(static_cast<uint64_t>(parse_int(read_line()))); return;

        // Globals and calls: see push_global() / call_global().
        case 'c': {
            const std::string module = read_line();
            const std::string name = read_line();
            push_global(module, name);
            return;
        }
        case 0x93: {
            const ValuePtr name = pop();
            const ValuePtr module = pop();
            if (module->kind != Value::Kind::String || name->kind != Value::Kind::String)
                fail("module and name must be strings");
            push_global(module->text, name->text);
            return;
        }
        case 'R':   // REDUCE: callable(*args)
        case 0x81:  // NEWOBJ: cls.__new__(cls, *args); the same allow-list applies
            call_global();
            return;
        case 'b': build(); return;
        case 'Q': {
            const ValuePtr pid = pop();
            push(host_call([&] { return host_.persistent_load(*pid); }));
            return;
        }
        case 'P': {
            const ValuePtr pid = make_text(Value::Kind::String, read_line());
            push(host_call([&] { return host_.persistent_load(*pid); }));
            return;
        }
        default:
            if (opcode_name(op_)) fail("this opcode is not supported in checkpoints");
            fail("not a pickle opcode (corrupt data?)");
        }
    }

    const uint8_t *data_;
    size_t size_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    Host &host_;
    const Source &source_;
    std::vector<ValuePtr> stack_;
    std::vector<size_t> marks_;  // stack sizes at each open MARK
    std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace

const char *kind_name(Value::Kind kind) {
    switch (kind) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Bytes: return "bytes";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "global";
    case Value::Kind::Object: return "object";
    }
    return "?";
}

std::string describe(const Value &v) {
    switch (v.kind) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.boolean ? "bool True" : "bool False";
    case Value::Kind::Int: return "int " + std::to_string(v.integer);
    case Value::Kind::Float: return "float " + std::to_string(v.real);
    case Value::Kind::String: return "str '" + printable(v.text) + "'";
    case Value::Kind::Bytes: return "bytes of length " + std::to_string(v.text.size());
    case Value::Kind::Tuple:
    case Value::Kind::List:
        return std::string(kind_name(v.kind)) + " of " + std::to_string(v.items.size());
    case Value::Kind::Dict: return "dict of " + std::to_string(v.entries.size());
    case Value::Kind::Global: return "global " + printable(v.text);
    case Value::Kind::Object: return v.object ? v.object->type_name() : "object";
    }
    return "?";
}

const Value *dict_find(const Value &dict, const std::string &key) {
    if (dict.kind != Value::Kind::Dict) return nullptr;
    for (auto it = dict.entries.rbegin(); it != dict.entries.rend(); ++it) {
        if (it->first->kind == Value::Kind::String && it->first->text == key)
            return it->second.get();
    }
    return nullptr;
}

ValuePtr unpickle(const uint8_t *data, size_t size, Host &host, const Source &source) {
    return Machine(data, size, host, source).run();
}

}  // namespace m1c::pickle
