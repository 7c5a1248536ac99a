#include "engine/core/engine.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/types/span.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/core/assert.h"
#include "engine/core/id_equal.h"
#include "engine/core/indexed_heap.h"
#include "engine/core/rank_index.h"
#include "engine/core/waiting_set.h"

namespace acd::core {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// A requirement on an interned skill. Sets of them are kept sorted by skill.
struct Req {
  uint16_t skill = 0;
  uint8_t level = 0;
  friend bool operator==(const Req& a, const Req& b) = default;
  friend bool operator<(const Req& a, const Req& b) {
    return a.skill != b.skill ? a.skill < b.skill : a.level < b.level;
  }
};
using ReqSet = absl::InlinedVector<Req, 4>;

// One bit per skill (skill mod 64): a cheap necessary condition for holding a set.
uint64_t SkillBits(uint16_t skill) { return uint64_t{1} << (skill % 64); }

// A logged-in agent holding a skill, with its level and the SkillBits of all its skills:
// lets a new class skip the agents below a required level or missing one of its other
// skills without touching their records. The bits are here rather than in an array by
// agent so that the scan of a skill's holders reads one list front to back.
struct SkillHolder {
  uint64_t skill_bits = 0;
  uint32_t agent = 0;
  uint8_t level = 0;
};

// Adds r to a sorted set, keeping the higher level if the skill is already there.
void MergeReq(ReqSet& set, Req r) {
  auto it = std::lower_bound(set.begin(), set.end(), r,
                             [](const Req& a, const Req& b) { return a.skill < b.skill; });
  if (it != set.end() && it->skill == r.skill) {
    it->level = std::max(it->level, r.level);
  } else {
    set.insert(it, r);
  }
}

// Ids travel into logs and wallboards: printable ASCII without spaces, so they cannot
// carry free text or break a log line.
bool IsValidId(absl::string_view id, int max_bytes) {
  if (id.empty() || id.size() > static_cast<size_t>(max_bytes)) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) { return ch > ' ' && ch < 127; });
}

using ContactEntry = WaitingEntry;
// (key, seq) as one 128-bit rank (PairRank): a branch-free comparison, for heap sifts and
// the served-class scan.
using u128 = unsigned __int128;
u128 ContactRank(int64_t key, uint64_t seq) { return PairRank(key, seq); }
bool ContactBefore(int64_t key_a, uint64_t seq_a, int64_t key_b, uint64_t seq_b) {
  return ContactRank(key_a, seq_a) < ContactRank(key_b, seq_b);
}

struct AgentEntry {
  AgentRank rank;
  uint64_t login_order;
  uint32_t agent;
  uint32_t served_index;  // index into AgentRec::served
};

// A logged-in agent who serves a class: its entry in the class's member list, pointing
// at the agent's entry in AgentRec::served (which points back: ServedLinks::member_pos).
struct ClassMember {
  uint32_t agent;
  uint32_t served_index;
};

// Contacts with the same routing needs. Waiting contacts are ordered by (key, arrival
// sequence) in a WaitingSet; free eligible agents by (strategy rank, login order) in a
// heap. Two cache lines, aligned: the description the class index compares comes first,
// then the waiting set and the heap, so finding a class and taking its head contact read
// at most those two (and the waiting set's block).
struct alignas(64) RequirementClass {
  uint32_t queue = 0;
  Channel channel = Channel::kVoice;
  bool live = false;  // false: retired, its id is free for reuse
  bool idle_listed = false;  // in Impl::idle_classes_
  int staffed = 0;  // logged-in agents with READY presence who serve this class
  uint32_t queue_pos = 0;  // index in QueueRec::classes
  // An agent meeting any one set in full is eligible. Usually one set: kept inline.
  absl::InlinedVector<ReqSet, 1> alternatives;
  // Null: any eligible agent. Few classes have one: kept out of line.
  std::unique_ptr<std::string> preferred_agent;
  WaitingSet waiting;
  std::vector<AgentEntry> available;
  // Exactly the logged-in agents whose served lists hold this class (any order), so
  // retiring the class edits just their lists.
  std::vector<ClassMember> members;

  absl::string_view preferred() const {
    return preferred_agent ? absl::string_view(*preferred_agent) : absl::string_view();
  }
};
static_assert(sizeof(RequirementClass) == 128, "RequirementClass: two cache lines");

struct CompiledStep {
  int64_t after_us = 0;
  int min_level_cap = 0;
  std::vector<Req> also_accept;
};

// The requirement classes of a queue's recent arrivals (those with no preferred agent in
// play), each under its arrival's needs packed into one number (Key): an arrival with the
// same needs as one of them, the usual case in a queue, takes that class without
// describing one and looking it up again (about 300 of a scale-1 cycle's 5,000
// instructions, plain build). At scale 2,
// where nearly every arrival's needs are new, a miss costs four compares. Entries are
// replaced in turn; one whose class retires is cleared.
class RecentClasses {
 public:
  static constexpr u128 kNoKey = ~u128{0};  // no arrival's Key
  // The channel, the language and up to three requirements, each field in bits of its
  // own; kNoKey for more requirements (not remembered).
  static u128 Key(Channel channel, uint32_t language, const ReqSet& own) {
    if (own.size() > 3) return kNoKey;
    static_assert(sizeof(Req::skill) == 2 && sizeof(Req::level) == 1);
    ACD_ASSERT(language == kNone || language < 0xFFFF);
    u128 key = own.size();
    key = (key << 8) | static_cast<uint8_t>(channel);
    key = (key << 16) | (language == kNone ? 0xFFFF : language);
    for (const Req& r : own) key = (key << 24) | (uint32_t{r.skill} << 8) | r.level;
    return key;
  }
  uint32_t Find(u128 key) const {
    for (size_t i = 0; i < kSize; ++i) {
      if (keys_[i] == key) return classes_[i];
    }
    return kNone;
  }
  void Add(u128 key, uint32_t cls) {
    keys_[next_] = key;
    classes_[next_] = cls;
    next_ = (next_ + 1) % kSize;
  }
  void Forget(uint32_t cls) {
    for (size_t i = 0; i < kSize; ++i) {
      if (classes_[i] == cls) keys_[i] = kNoKey;
    }
  }
  // Calls f(cls) for each class remembered (for the invariant checks).
  template <typename F>
  void ForEach(F f) const {
    for (size_t i = 0; i < kSize; ++i) {
      if (keys_[i] != kNoKey) f(classes_[i]);
    }
  }

 private:
  static constexpr size_t kSize = 4;
  std::array<u128, kSize> keys_ = {kNoKey, kNoKey, kNoKey, kNoKey};
  std::array<uint32_t, kSize> classes_ = {kNone, kNone, kNone, kNone};
  size_t next_ = 0;
};

struct QueueRec {
  explicit QueueRec(absl::Duration window) : window(window) {}
  QueueConfig config;
  std::unique_ptr<RoutingStrategy> strategy;
  ReqSet requirements;
  RecentClasses recent_classes;  // reset with the rules (a new QueueRec)
  std::vector<CompiledStep> steps;
  uint32_t overflow_target = kNone;
  uint32_t escalation_target = kNone;
  uint32_t closed_overflow_target = kNone;
  int64_t aging_us = 1;
  int64_t preferred_wait_us = 0;
  // Whether a contact entering this queue with `preferred` as its preferred agent waits
  // for that agent first (ContactRec::preferred_active), which puts the agent in its class.
  bool WaitsForPreferred(absl::string_view preferred) const {
    return preferred_wait_us > 0 && !preferred.empty();
  }
  // The config's durations the hot paths read, in the core's microseconds (truncated, as
  // absl::ToInt64Microseconds does). max_wait_us is -1 when the queue has no max wait.
  int64_t max_wait_us = -1;
  int64_t offer_timeout_us = 0;
  int64_t service_level_threshold_us = 0;
  std::array<bool, kChannelCount> takes{};
  int waiting = 0;
  int in_offer = 0;
  // The ranks of the contacts waiting in the queue's classes, for callers' positions.
  // Built by the first position asked for (GetContact, a const query: hence mutable),
  // then kept in step by PushWaiting, RemoveWaiting and ChangePriority; a queue nobody
  // asks a position of pays nothing for it.
  mutable std::unique_ptr<RankIndex> ranks;
  QueueCounters total;
  RollingCounters window;
  std::vector<uint32_t> classes;
};

struct WorkItem {
  uint64_t offer_id = 0;
  int64_t deadline_us = kNever;
  int64_t connected_us = 0;
  uint32_t contact = kNone;  // kNone once in wrap-up (the contact has ended)
  uint32_t queue = 0;
  WorkPhase phase = WorkPhase::kOffered;
  Channel channel = Channel::kVoice;
};

// A class an agent serves: the class id and the capacity pool of its channel (to skip
// full pools) in 4 bytes. An agent that frees up reads its whole list, which is usually
// cold (10,000 agents at scale 2), so it is kept dense; the agent's heap positions in
// those classes are a parallel list (AgentRec::served_links).
class ServedClass {
 public:
  static constexpr uint32_t kMaxClasses = uint32_t{1} << 30;
  ServedClass(uint32_t cls, CapacityPool pool)
      : packed_(cls | (static_cast<uint32_t>(pool) << 30)) {
    ACD_ASSERT(cls < kMaxClasses);
  }
  uint32_t cls() const { return packed_ & (kMaxClasses - 1); }
  CapacityPool pool() const { return static_cast<CapacityPool>(packed_ >> 30); }

 private:
  uint32_t packed_;
};

// Where an agent is in a class it serves: its index in the class's available heap (or
// -1) and in the class's member list. One entry per AgentRec::served entry.
struct ServedLinks {
  int32_t heap_pos = -1;
  uint32_t member_pos = 0;
};

// The head of a class's waiting set, kept apart from the class in a dense array: an
// agent that frees up compares the heads of every class it serves, and this keeps that
// scan to one small, cache-friendly read per class (16 bytes, its ContactRank: one
// compare per class). An empty class holds the sentinel rank of (max, max), which every
// real contact ranks before: arrival sequence numbers never reach the maximum.
struct ClassHead {
  u128 rank = ~u128{0};
  bool empty() const { return rank == ~u128{0}; }
};

// The fields every offer, acceptance and completion touch come first, together (the
// agent freeing up is usually not in cache at scale), then what a new requirement class
// reads and writes of each agent it may serve (Eligible: logged_in, capacity, skills;
// then served), then the rest. Aligned to a cache line, so those fields span the same
// lines in every record.
struct alignas(64) AgentRec {
  std::string id;
  // Usually one item (voice): kept inline, no allocation and no second cache miss.
  absl::InlinedVector<WorkItem, 1> work;
  std::array<int, kCapacityPoolCount> capacity{};
  std::array<int, kCapacityPoolCount> used{};
  bool logged_in = false;
  bool ready = false;  // presence: READY (routable) or NOT_READY(reason)
  // True when heap membership is up to date (RefreshAgent ran after the last change).
  // While false (an agent mid-change in a command), new classes must not index it.
  bool indexed = false;
  AgentState shown = AgentState::kLoggedOut;
  uint32_t heaps_joined = 0;  // entries of served_links with heap_pos >= 0
  // Sorted by skill. Up to 8 inline, next to the fields above: checking an agent against
  // a new class then costs no miss beyond the record's.
  absl::InlinedVector<Req, 8> skills;
  std::vector<ServedClass> served;
  // Parallel to `served` (kept apart so the scan reads only the dense list).
  std::vector<ServedLinks> served_links;
  int64_t state_since_us = 0;  // on the line of the occupancy fields, which change with it
  int64_t idle_since_us = 0;
  int64_t accrued_at_us = 0;
  int64_t work_us = 0;  // occupancy accumulators since login
  int64_t idle_us = 0;
  int64_t handled = 0;
  uint64_t last_offer_ticket = 0;
  uint64_t login_order = 0;
  std::string shown_reason;  // empty unless shown is NOT_READY
  std::string reason;
};


// What few contacts have, kept out of line: a contact without it pays 8 bytes, not 56.
struct ContactExtras {
  std::string preferred_agent;
  std::vector<Attribute> attributes;
};

// One contact. Kept compact (152 bytes), since a million may wait: nothing is padded.
// What completing, accepting and offering it read and write comes first, within 104
// bytes, so a cold record costs two or three cache lines there rather than all of it;
// what only entering a queue and the class look-up use comes last. Its ordering key is
// not stored: it is always arrival_us - priority * aging_us of its queue (KeyOf), and
// the class's waiting-set entry carries a copy.
struct ContactRec {
  std::string id;
  int64_t arrival_us = 0;  // first arrival; also the base of the ordering key
  uint64_t offer_id = 0;
  int64_t ended_us = 0;  // when answered or ended: `waited` stops here
  uint64_t queue_epoch = 0;  // changes whenever the contact enters a queue or ends
  uint32_t queue = 0;
  uint32_t cls = 0;
  uint32_t agent = kNone;
  int32_t heap_pos = -1;  // its position in its class's WaitingSet while waiting, else -1
  // Index in the timer heap of this contact's pending offer timeout, or -1. The timer is
  // removed when the offer ends any other way, so answered offers leave nothing behind.
  int32_t offer_timer = -1;
  int priority = 0;
  bool in_use = false;
  ContactState state = ContactState::kWaiting;
  Channel channel = Channel::kVoice;
  uint8_t step = 0;
  bool preferred_active = false;
  bool overflow_due = false;
  std::unique_ptr<ContactExtras> extras;
  int64_t queue_entry_us = 0;
  uint64_t seq = 0;
  ReqSet own;
  uint32_t language = kNone;

  // Back to a default-constructed record, field by field (keeps the id's buffer; the
  // assignment from ContactRec{} zeroed a temporary and moved every member).
  // Keep in step with the members above.
  void Reset() {
    arrival_us = 0;
    queue_entry_us = 0;
    ended_us = 0;
    seq = 0;
    offer_id = 0;
    queue_epoch = 0;
    id.clear();
    own.clear();
    extras.reset();
    queue = 0;
    cls = 0;
    agent = kNone;
    language = kNone;
    heap_pos = -1;
    offer_timer = -1;
    priority = 0;
    in_use = false;
    state = ContactState::kWaiting;
    channel = Channel::kVoice;
    preferred_active = false;
    overflow_due = false;
    step = 0;
  }

  absl::string_view preferred() const {
    return extras ? absl::string_view(extras->preferred_agent) : absl::string_view();
  }
  void set_preferred(absl::string_view id) {
    if (id.empty() && !extras) return;
    if (!extras) extras = std::make_unique<ContactExtras>();
    extras->preferred_agent = std::string(id);
  }
  void set_attributes(const std::vector<Attribute>& attributes) {
    if (attributes.empty() && !extras) return;
    if (!extras) extras = std::make_unique<ContactExtras>();
    extras->attributes = attributes;
  }
  // Attributes may hold patient data: an ended contact forgets them.
  void drop_attributes() {
    if (!extras) return;
    if (extras->preferred_agent.empty()) {
      extras.reset();
    } else {
      extras->attributes = {};
    }
  }
};
static_assert(sizeof(ContactRec) <= 152, "ContactRec grew: check the budget per contact");

// Contacts by slot, in pages of 1,024 that never move: a slot's address is stable, growth
// adds one page at a time (memory follows the number of contacts), and indexing is a
// shift and a mask.
template <typename T>
class SlotPages {
 public:
  static constexpr size_t kPageBits = 10;
  static constexpr size_t kPageSize = size_t{1} << kPageBits;

  size_t size() const { return size_; }
  T& operator[](size_t i) { return pages_[i >> kPageBits][i & (kPageSize - 1)]; }
  const T& operator[](size_t i) const { return pages_[i >> kPageBits][i & (kPageSize - 1)]; }
  // A default-constructed new last slot.
  void clear() {
    pages_.clear();
    size_ = 0;
  }
  T& emplace_back() {
    if ((size_ >> kPageBits) == pages_.size()) pages_.push_back(std::make_unique<T[]>(kPageSize));
    return (*this)[size_++];
  }

 private:
  std::vector<std::unique_ptr<T[]>> pages_;
  size_t size_ = 0;
};

// An id and its hash (SlotIdHash's), for a lookup and then an insertion of the same id
// that hash it once.
struct HashedId {
  absl::string_view id;
  size_t hash;
};

// Hash and equality for an index of slots that finds them by the `id` stored in the
// slot's record (contacts, agents), so an id is kept once, not again as a map key: 4
// bytes per table slot instead of a 32-byte std::string plus the slot. Lookups pass
// the id as a string_view (or a HashedId). `Store` maps a slot to its record with
// operator[].
template <typename Store>
struct SlotIdHash {
  using is_transparent = void;
  const Store* store;
  size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>{}(id); }
  size_t operator()(const HashedId& key) const { return key.hash; }
  size_t operator()(uint32_t slot) const { return (*this)((*store)[slot].id); }
};
template <typename Store>
struct SlotIdEq {
  using is_transparent = void;
  const Store* store;
  absl::string_view Id(absl::string_view id) const { return id; }
  absl::string_view Id(const HashedId& key) const { return key.id; }
  absl::string_view Id(uint32_t slot) const { return (*store)[slot].id; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const { return IdEqual(Id(a), Id(b)); }
};
template <typename Store>
using SlotIdIndex = absl::flat_hash_set<uint32_t, SlotIdHash<Store>, SlotIdEq<Store>>;

// What identifies a requirement class: a description being looked up (Impl::scratch_*)
// or one held by a RequirementClass.
struct ClassDesc {
  ClassDesc(uint32_t queue, Channel channel, absl::string_view preferred,
            absl::Span<const ReqSet> alternatives)
      : route((uint64_t{queue} << 8) | static_cast<uint8_t>(channel)),
        preferred(preferred),
        alternatives(alternatives) {}
  // The queue and the channel in one word, written whole: compared as two fields, GCC
  // merged them into one wide load of two narrower stores, a store-forwarding stall on
  // every class lookup (6.6% of Enqueue's samples at scale 1).
  uint64_t route;
  absl::string_view preferred;
  absl::Span<const ReqSet> alternatives;

  friend bool operator==(const ClassDesc& a, const ClassDesc& b) {
    return a.route == b.route && IdEqual(a.preferred, b.preferred) &&
           std::equal(a.alternatives.begin(), a.alternatives.end(), b.alternatives.begin(),
                      b.alternatives.end());
  }
  // One multiply per requirement and a final 64-bit mix (MurmurHash3's fmix64), instead
  // of absl::Hash's mixing step per field: this runs on every enqueue. Hash values never
  // decide anything (the index is not iterated), so they need not be stable.
  size_t Hash() const {
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    uint64_t h = route;
    if (!preferred.empty()) h ^= absl::Hash<absl::string_view>{}(preferred);
    for (const ReqSet& alt : alternatives) {
      h = (h + alt.size() + 1) * kMul;  // + 1 separates an empty set from none
      for (const Req& r : alt) h = (h + ((uint64_t{r.skill} << 8) | r.level)) * kMul;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return static_cast<size_t>(h);
  }
};
// A description and its hash (ClassDesc::Hash), so a prefetch and then a lookup of the
// same description hash it once.
struct HashedDesc {
  ClassDesc desc;
  size_t hash;
};
ClassDesc DescOf(const RequirementClass& cls) {
  return ClassDesc{cls.queue, cls.channel, cls.preferred(),
                   absl::MakeConstSpan(cls.alternatives)};
}

// The class index holds class ids and finds them by the description stored in the
// class itself: no key strings (they took ~64 bytes per class, a class per two
// contacts at scale 2).
struct ClassIdHash {
  using is_transparent = void;
  const SlotPages<RequirementClass>* classes;
  size_t operator()(const ClassDesc& d) const { return d.Hash(); }
  size_t operator()(const HashedDesc& k) const { return k.hash; }
  size_t operator()(uint32_t id) const { return (*this)(DescOf((*classes)[id])); }
};
struct ClassIdEq {
  using is_transparent = void;
  const SlotPages<RequirementClass>* classes;
  ClassDesc Desc(const ClassDesc& d) const { return d; }
  ClassDesc Desc(const HashedDesc& k) const { return k.desc; }
  ClassDesc Desc(uint32_t id) const { return DescOf((*classes)[id]); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const { return Desc(a) == Desc(b); }
};

// A FIFO of ids on a ring buffer that grows by doubling and never shrinks: pushing
// and popping once warm allocate nothing (a std::deque allocates a block every 128 ids).
class IdRing {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void Push(uint32_t id) {
    if (size_ == ring_.size()) Grow();
    ring_[(head_ + size_) & (ring_.size() - 1)] = id;
    ++size_;
  }
  uint32_t Pop() {
    ACD_ASSERT(size_ > 0);
    const uint32_t id = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
    return id;
  }
  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  void Grow() {
    std::vector<uint32_t> bigger(std::max<size_t>(64, ring_.size() * 2));
    for (size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<uint32_t> ring_;  // size is a power of two (or zero)
  size_t head_ = 0;
  size_t size_ = 0;
};

// What a contact's requirement class depends on besides its queue and channel.
struct ClassInputs {
  const ReqSet* own = nullptr;
  uint32_t language = kNone;
  uint8_t step = 0;
  bool preferred_active = false;
  absl::string_view preferred;
};
ClassInputs InputsOf(const ContactRec& c) {
  return ClassInputs{&c.own, c.language, c.step, c.preferred_active, c.preferred()};
}

enum class TimerKind : uint8_t { kOfferTimeout, kWrapUpEnd, kExpansion, kPreferredFallback, kMaxWait };

struct Timer {
  int64_t due_us;
  uint64_t seq;
  TimerKind kind;
  uint32_t slot;    // contact or agent
  uint64_t token;   // offer id or queue epoch: a stale timer's token no longer matches
  int aux;          // expansion: the step it reaches
};
// Timers fire in (deadline, creation) order.
bool TimerBefore(const Timer& a, const Timer& b) {
  return a.due_us != b.due_us ? a.due_us < b.due_us : a.seq < b.seq;
}

}  // namespace

class Engine::Impl {
 public:
  Impl(EngineConfig config, const Clock& clock, EngineOptions options)
      : config_(std::move(config)), clock_(clock), options_(options) {}

  absl::Status Init();
  absl::Status ApplyConfig(EngineConfig config);
  absl::Status Escalate(absl::string_view contact_id);

  absl::Status Enqueue(const EnqueueRequest& r);
  absl::Status Cancel(absl::string_view contact_id, absl::string_view reason);
  absl::Status ChangePriority(absl::string_view contact_id, int priority);
  absl::Status Transfer(absl::string_view contact_id, absl::string_view queue);
  absl::Status RequestCallback(absl::string_view contact_id);
  absl::Status Login(const LoginRequest& r);
  absl::Status Logout(absl::string_view agent_id);
  absl::Status SetReady(absl::string_view agent_id);
  absl::Status SetNotReady(absl::string_view agent_id, absl::string_view reason);
  absl::Status Accept(absl::string_view agent_id, absl::string_view contact_id);
  absl::Status Reject(absl::string_view agent_id, absl::string_view contact_id);
  absl::Status Complete(absl::string_view agent_id, absl::string_view contact_id);
  absl::Status EndWrapUp(absl::string_view agent_id);
  absl::Status ForceState(absl::string_view agent_id, AgentState state, absl::string_view reason);
  void Advance() { Sync(); }
  std::optional<absl::Time> NextTimer() const {
    if (timers_.empty()) return std::nullopt;
    return absl::FromUnixMicros(timers_.front().due_us);
  }

  absl::StatusOr<ContactStatus> GetContact(absl::string_view contact_id) const;
  absl::StatusOr<AgentStatus> GetAgent(absl::string_view agent_id) const;
  EngineSnapshot Snapshot() const;
  uint64_t last_sequence() const { return sequence_; }
  absl::Time now() const { return absl::FromUnixMicros(now_us_); }
  const EngineConfig& config() const { return config_; }
  void CheckInvariants() const;

 private:
  // Everything derived from a config alone; built and checked before it replaces the
  // rules in force, so a bad rule set changes nothing.
  struct Rules {
    EngineConfig config;
    NameIndex<uint16_t> skill_index;
    NameIndex<uint32_t> queue_index;
    std::vector<std::string> reasons;
    std::vector<QueueRec> queues;
  };
  absl::StatusOr<Rules> BuildRules(EngineConfig config) const;
  void Install(Rules rules);
  // Lists a logged-in agent under each skill it holds, in skill_agents_.
  void ListHolder(uint32_t agent, absl::Span<const Req> skills);

  // ---- time ----
  void Sync();
  void Schedule(int64_t due_us, TimerKind kind, uint32_t slot, uint64_t token, int aux = 0);
  void Fire(const Timer& t);
  // False when firing `t` would do nothing, now and at any later time: its contact has
  // left the queue it was set for (the queue epoch moved on), or its wrap-up ended early.
  // Fire checks this first; DropStaleTimers drops the timers it is false for.
  bool TimerLive(const Timer& t) const;
  // Drops the timers that are no longer live. Max-wait, expansion and fallback timers
  // outlive the contacts answered before them (a max wait of an hour keeps an hour of
  // arrivals' timers); Schedule calls this once the heap has doubled since the last
  // time, so the heap follows the live timers at O(1) amortized cost per timer.
  void DropStaleTimers();
  void CancelOfferTimer(uint32_t contact);  // its pending offer timeout, if any
  auto TimerMoved() {
    return [this](const Timer& t, size_t i) {
      if (t.kind == TimerKind::kOfferTimeout) contacts_[t.slot].offer_timer = static_cast<int32_t>(i);
    };
  }
  int64_t QueryNowUs() const {
    return std::max(now_us_, clock_.NowUnixMicros());
  }

  // ---- lookups and validation ----
  absl::StatusOr<uint32_t> FindContact(absl::string_view id) const;
  absl::StatusOr<uint32_t> FindLoggedInAgent(absl::string_view id) const;
  absl::StatusOr<uint32_t> FindQueue(absl::string_view name) const;
  absl::Status CheckReason(absl::string_view reason) const;
  absl::Status CheckPriority(int priority) const;
  absl::Status CheckNotEnded(const ContactRec& c) const;
  // An agent that is logged in and a contact, both by id: the common start of the
  // offer commands.
  absl::Status FindAgentAndContact(absl::string_view agent_id, absl::string_view contact_id,
                                   uint32_t* agent, uint32_t* contact) const;
  bool IsOpen(const QueueRec& q) const;  // not closed by hand, within business hours
  absl::Status CheckOpen(const QueueRec& q) const;
  absl::Status CheckLength(const QueueRec& q) const;
  absl::Status CheckQueueHasRoom(const QueueRec& q) const;  // open and below max_length
  // Where a new contact for `queue` goes while queues are closed: the queue itself, a
  // closed-overflow target, or the same queue as a CALLBACK. FAILED_PRECONDITION if refused.
  absl::Status ResolveArrival(uint32_t* queue, Channel* channel) const;
  // OK if the class of a contact in `queue` on `channel` exists or may be created
  // (RESOURCE_EXHAUSTED if not); describes it in scratch_* for the InternClass after it.
  absl::Status CheckClassRoom(const ClassInputs& inputs, uint32_t queue, Channel channel);
  // The same for the class already described in scratch_* (DescribeClass).
  absl::Status CheckDescribedClassRoom();
  absl::Status CheckOfferedTo(const ContactRec& c, uint32_t agent, absl::string_view agent_id,
                              absl::string_view contact_id) const;

  // ---- requirement classes ----
  // Fills scratch_* with the class of a contact in `queue` on `channel`.
  void DescribeClass(const ClassInputs& c, uint32_t queue, Channel channel);
  uint32_t InternClass();  // for the description in scratch_*
  // Logged-in or not, the agents that may be eligible for `cls` (a superset of those
  // that are), in slot order, in scratch_agents_.
  const std::vector<uint32_t>& Candidates(const RequirementClass& cls);
  // Classes nobody waits in are retired once there are many of them, so that the class
  // count (and each agent's served list) follows the requirement sets in use rather
  // than every set ever seen; their ids are reused. ListIfIdle queues an idle class for
  // that; RetireIdleClasses runs at the start of Enqueue, where no scan is under way.
  void ListIfIdle(uint32_t cls);
  void RetireIdleClasses();
  void RetireOneIdleClass();  // the one idle longest, if any
  void RetireClass(uint32_t cls);
  // Served-list membership, kept exact in both directions (AgentRec::served and
  // RequirementClass::members): AddServed appends `cls` to the agent's list (not in
  // any heap yet); DropServed removes the agent's entry `i`, which is in no heap.
  void AddServed(uint32_t agent, uint32_t cls);
  void DropServed(uint32_t agent, uint32_t i);
  // DropServed's second half: the agent's entry `i` leaves its list, and the caller sees
  // to the class's member list (RetireClass drops the whole list).
  void RemoveServedEntry(uint32_t agent, uint32_t i);
  // Sets scratch_class_ to the class described in scratch_* (kNone if none yet), looking
  // it up once per description: CheckClassRoom and the InternClass after it share it.
  void LookUpScratchClass();
  ClassDesc ScratchDesc() const {
    return ClassDesc{scratch_queue_, scratch_channel_, scratch_preferred_,
                     absl::MakeConstSpan(scratch_alternatives_)};
  }
  HashedDesc ScratchKey() const { return HashedDesc{ScratchDesc(), scratch_hash_}; }
  uint32_t ClassFor(const ContactRec& c) {
    DescribeClass(InputsOf(c), c.queue, c.channel);
    return InternClass();
  }
  bool Eligible(const AgentRec& a, const RequirementClass& cls) const;
  static bool MeetsAll(const AgentRec& a, const ReqSet& set);
  static int LevelOf(const AgentRec& a, uint16_t skill);

  // ---- contacts ----
  // The ordering key (smaller first): arrival time less priority times the queue's aging.
  int64_t KeyOf(const ContactRec& c) const {
    return c.arrival_us - static_cast<int64_t>(c.priority) * queues_[c.queue].aging_us;
  }
  // Puts a contact into `queue` (counted as offered there, timers armed, class set) but
  // does not route it. `cls`: its class if the caller interned it already.
  void EnterQueue(uint32_t slot, uint32_t queue,
                  std::optional<uint32_t> cls = std::nullopt);
  void ScheduleNextExpansion(const ContactRec& c, uint32_t slot);
  void Route(uint32_t slot);         // WAITING contact, not in a waiting set: offer or wait
  void Requeue(uint32_t slot);       // back from a declined offer
  void PushWaiting(uint32_t slot);
  void UpdateHead(uint32_t cls);  // after the class's waiting set changed
  void RemoveWaiting(uint32_t slot);
  void Overflow(uint32_t slot);      // WAITING contact, not in a waiting set
  void FinishContact(uint32_t slot, ContactState final_state);
  // A retained ended contact leaves the index; its slot is free again.
  struct Finished;
  void Forget(const Finished& f);
  void MoveToCurrentClass(uint32_t slot);  // WAITING contact after its class changed
  // The ranks of the contacts in the waiting sets of the queue's classes, ascending.
  std::vector<RankIndex::Rank> WaitingRanks(const QueueRec& q) const;

  // ---- agents ----
  bool Routable(const AgentRec& a) const { return a.logged_in && a.ready; }
  bool HasCapacity(const AgentRec& a, Channel channel) const;
  int TotalUsed(const AgentRec& a) const { return a.used[0] + a.used[1] + a.used[2]; }
  // Occupancy accounting: adds the time since the agent's last accrual to work or idle.
  static void AccrueInto(const AgentRec& a, int64_t until_us, int64_t* work_us, int64_t* idle_us);
  void Accrue(AgentRec& a);
  void SetPresence(uint32_t agent, bool ready, absl::string_view reason);
  void UpdateShown(uint32_t agent);
  void RemoveFromHeaps(uint32_t agent);
  // Takes the best waiting contacts the agent can serve while it has room, then puts it
  // in the available heap of every class it serves and has room for.
  void RefreshAgent(uint32_t agent);
  void JoinHeap(uint32_t agent, uint32_t served_index);
  void MakeOffer(uint32_t agent, uint32_t contact);
  void DeclineOffer(uint32_t agent, uint32_t contact, EventType type, absl::string_view reason);
  void WithdrawOffers(uint32_t agent, absl::string_view reason);
  static WorkItem* FindWork(AgentRec& a, uint64_t offer_id);
  static const WorkItem* FindWork(const AgentRec& a, uint64_t offer_id);
  void RemoveWork(uint32_t agent, uint64_t offer_id);
  void EndConnection(uint32_t agent, uint64_t offer_id);  // connected -> wrap-up (or gone)
  void RecordHandled(const WorkItem& item);
  // Adds one to a queue counter, in the totals and in the current window bucket.
  void Count(QueueRec& q, int64_t QueueCounters::*counter) {
    ++(q.total.*counter);
    ++(q.window.At(now_us_).*counter);
  }
  void CheckBestChoice(uint32_t agent, uint32_t contact) const;

  // ---- events ----
  // Events are built in one engine-owned Event and emitted at once: NewEvent resets it
  // field by field (a fresh 144-byte Event is zeroed with `rep stos`, which showed up as
  // 7% of the scale-1 cycle), and no other event may start before Emit.
  Event& NewEvent(EventType type);
  Event& ContactEvent(EventType type, const ContactRec& c);
  void Emit(Event& e);

  // ---- heaps ----
  auto ContactMoved() {
    return [this](const ContactEntry& e, int32_t pos) { contacts_[e.contact].heap_pos = pos; };
  }
  static bool AgentLess(const AgentEntry& a, const AgentEntry& b) {
    if (!(a.rank == b.rank)) return a.rank < b.rank;
    return a.login_order < b.login_order;
  }
  auto AgentMoved() {
    return [this](const AgentEntry& e, size_t i) {
      agents_[e.agent].served_links[e.served_index].heap_pos = static_cast<int32_t>(i);
    };
  }

  EngineConfig config_;
  const Clock& clock_;
  EngineOptions options_;

  int64_t now_us_ = 0;
  uint64_t sequence_ = 0;
  uint64_t timer_seq_ = 0;
  static constexpr size_t kMinTimerCompaction = 1024;
  size_t timers_compact_at_ = kMinTimerCompaction;  // DropStaleTimers at this heap size
  uint64_t arrival_seq_ = 0;
  uint64_t offer_seq_ = 0;
  uint64_t ticket_seq_ = 0;
  uint64_t login_seq_ = 0;
  uint64_t epoch_seq_ = 0;

  NameIndex<uint16_t> skill_index_;
  NameIndex<uint32_t> queue_index_;
  std::vector<std::string> reasons_;
  std::vector<QueueRec> queues_;

  std::vector<ClassHead> heads_;  // parallel to classes_
  // Logged-in agents holding each skill (by skill id), for finding who serves a new class.
  std::vector<std::vector<SkillHolder>> skill_agents_;
  std::vector<uint32_t> scratch_agents_;
  // Declared before class_index_, whose functors point at it.
  SlotPages<RequirementClass> classes_;
  absl::flat_hash_set<uint32_t, ClassIdHash, ClassIdEq> class_index_{
      0, ClassIdHash{&classes_}, ClassIdEq{&classes_}};
  std::vector<ReqSet> scratch_alternatives_;
  bool scratch_looked_up_ = false;  // scratch_class_ is valid for the description
  size_t scratch_hash_ = 0;  // ScratchDesc().Hash(), set with the description
  // Class retirement (RetireIdleClasses). Idle: live with no waiting contacts.
  std::vector<uint32_t> free_classes_;  // retired ids
  size_t live_classes_ = 0;
  size_t idle_live_classes_ = 0;
  IdRing idle_classes_;  // idle classes, in the order they became idle
  uint32_t scratch_class_ = kNone;
  uint32_t scratch_queue_ = 0;
  Channel scratch_channel_ = Channel::kVoice;
  absl::string_view scratch_preferred_;

  std::vector<AgentRec> agents_;
  mutable uint32_t last_agent_found_ = kNone;  // FindLoggedInAgent's; a slot never reused
  mutable uint32_t last_queue_found_ = kNone;  // FindQueue's; reset when the rules change
  // Agent slots by id (SlotIdIndex: 10,000 agents' index is 64 KB and stays in cache).
  SlotIdIndex<std::vector<AgentRec>> agent_index_{
      0, SlotIdHash<std::vector<AgentRec>>{&agents_}, SlotIdEq<std::vector<AgentRec>>{&agents_}};

  SlotPages<ContactRec> contacts_;
  std::vector<uint32_t> free_contacts_;
  // Slots of the contacts with an id in use (live, or ended and retained), by id.
  SlotIdIndex<SlotPages<ContactRec>> contact_index_{
      0, SlotIdHash<SlotPages<ContactRec>>{&contacts_}, SlotIdEq<SlotPages<ContactRec>>{&contacts_}};
  // Retained ended contacts, a ring of max_finished_contacts_retained slots: the oldest
  // is forgotten when a new one ends. Fixed size, so ending a contact never allocates.
  // Each keeps its id's hash (contact_index_'s), so forgetting it does not hash again,
  // and the next one to go can be prefetched without reading its cold record first.
  struct Finished {
    uint32_t slot;
    size_t hash;
  };
  std::vector<Finished> finished_;
  size_t finished_next_ = 0;
  int live_contacts_ = 0;

  // A min-heap in (deadline, creation) order. Offer timeouts can be removed early
  // (CancelOfferTimer); every other kind is left to fire and finds itself stale.
  std::vector<Timer> timers_;

  Event event_;  // the event being built (NewEvent .. Emit)
  bool event_open_ = false;
};

// ============================================================================
// Set-up
// ============================================================================

absl::StatusOr<Engine::Impl::Rules> Engine::Impl::BuildRules(EngineConfig config) const {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  const StrategyRegistry& registry =
      options_.registry != nullptr ? *options_.registry : StrategyRegistry::Global();
  Rules rules;
  rules.config = std::move(config);
  const EngineConfig& c = rules.config;
  for (size_t i = 0; i < c.skills.size(); ++i) {
    rules.skill_index.emplace(c.skills[i], static_cast<uint16_t>(i));
  }
  rules.reasons = c.reason_codes;
  for (absl::string_view builtin : {kReasonLogin, kReasonRona, kReasonForced}) {
    if (std::find(rules.reasons.begin(), rules.reasons.end(), builtin) == rules.reasons.end()) {
      rules.reasons.emplace_back(builtin);
    }
  }
  for (size_t i = 0; i < c.queues.size(); ++i) {
    rules.queue_index.emplace(c.queues[i].name, static_cast<uint32_t>(i));
  }
  auto index_of = [&rules](const std::string& name) {
    return name.empty() ? kNone : rules.queue_index.at(name);
  };
  rules.queues.reserve(c.queues.size());
  for (const QueueConfig& qc : c.queues) {
    QueueRec& q = rules.queues.emplace_back(c.stats_window);
    q.config = qc;
    // A per-queue seed from the engine's seed and the queue name (FNV-1a), the same on
    // every platform: absl::Hash is seeded per process and would break replays.
    uint64_t seed = 0xCBF29CE484222325ULL ^ c.random_seed;
    for (char ch : qc.name) seed = (seed ^ static_cast<uint8_t>(ch)) * 0x100000001B3ULL;
    StrategyContext context{qc.name, &qc.strategy_params, seed};
    absl::StatusOr<std::unique_ptr<RoutingStrategy>> strategy =
        registry.Create(qc.strategy, context);
    if (!strategy.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue '", qc.name, "': strategy: ", strategy.status().message()));
    }
    q.strategy = std::move(*strategy);
    for (const SkillRequirement& r : qc.requirements) {
      MergeReq(q.requirements,
               Req{rules.skill_index.at(r.skill), static_cast<uint8_t>(r.min_level)});
    }
    for (const ExpansionStep& step : qc.expansion) {
      CompiledStep& cs = q.steps.emplace_back();
      cs.after_us = absl::ToInt64Microseconds(step.after);
      cs.min_level_cap = step.min_level_cap;
      for (const SkillRequirement& r : step.also_accept) {
        cs.also_accept.push_back(
            Req{rules.skill_index.at(r.skill), static_cast<uint8_t>(r.min_level)});
      }
    }
    q.overflow_target = index_of(qc.overflow_queue);
    q.escalation_target = index_of(qc.escalation_queue);
    q.closed_overflow_target = qc.closed_treatment == ClosedTreatment::kOverflow
                                   ? index_of(qc.closed_overflow_queue)
                                   : kNone;
    q.aging_us = absl::ToInt64Microseconds(qc.aging_per_priority_level);
    q.preferred_wait_us = absl::ToInt64Microseconds(q.strategy->preferred_agent_wait());
    if (qc.max_wait > absl::ZeroDuration()) q.max_wait_us = absl::ToInt64Microseconds(qc.max_wait);
    q.offer_timeout_us = absl::ToInt64Microseconds(qc.offer_timeout);
    q.service_level_threshold_us = absl::ToInt64Microseconds(qc.service_level_threshold);
    for (Channel ch : qc.channels) q.takes[static_cast<int>(ch)] = true;
  }
  return rules;
}

void Engine::Impl::Install(Rules rules) {
  config_ = std::move(rules.config);
  skill_index_ = std::move(rules.skill_index);
  queue_index_ = std::move(rules.queue_index);
  reasons_ = std::move(rules.reasons);
  queues_ = std::move(rules.queues);
  last_queue_found_ = kNone;  // the new rules number their queues afresh
  // Agents' skills are already in the new numbering (ApplyConfig remaps them first).
  skill_agents_.assign(config_.skills.size(), {});
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    if (agents_[a].logged_in) ListHolder(a, agents_[a].skills);
  }
}

void Engine::Impl::ListHolder(uint32_t agent, absl::Span<const Req> skills) {
  uint64_t bits = 0;
  for (const Req& r : skills) bits |= SkillBits(r.skill);
  for (const Req& r : skills) skill_agents_[r.skill].push_back(SkillHolder{bits, agent, r.level});
}

absl::Status Engine::Impl::Init() {
  absl::StatusOr<Rules> rules = BuildRules(config_);
  if (!rules.ok()) return rules.status();
  Install(std::move(*rules));
  now_us_ = clock_.NowUnixMicros();
  return absl::OkStatus();
}

// ============================================================================
// Time
// ============================================================================

void Engine::Impl::Sync() {
  const int64_t target = std::max(now_us_, clock_.NowUnixMicros());
  // Each timer fires at its own deadline, in (deadline, creation) order, so events carry
  // the time they really happened even when the clock jumped.
  while (!timers_.empty() && timers_.front().due_us <= target) {
    const Timer t = timers_.front();
    heap::Erase(timers_, 0, TimerBefore, TimerMoved());
    if (t.kind == TimerKind::kOfferTimeout) contacts_[t.slot].offer_timer = -1;
    now_us_ = std::max(now_us_, t.due_us);
    Fire(t);
  }
  now_us_ = target;
}

void Engine::Impl::Schedule(int64_t due_us, TimerKind kind, uint32_t slot, uint64_t token,
                            int aux) {
  if (timers_.size() >= timers_compact_at_) DropStaleTimers();
  heap::Push(timers_, Timer{due_us, ++timer_seq_, kind, slot, token, aux}, TimerBefore,
             TimerMoved());
}

bool Engine::Impl::TimerLive(const Timer& t) const {
  switch (t.kind) {
    case TimerKind::kOfferTimeout:
      return true;  // removed as soon as its offer ends (CancelOfferTimer)
    case TimerKind::kWrapUpEnd: {
      const WorkItem* item = FindWork(agents_[t.slot], t.token);
      return item != nullptr && item->phase == WorkPhase::kWrapUp;
    }
    case TimerKind::kExpansion:
    case TimerKind::kPreferredFallback:
    case TimerKind::kMaxWait: {
      // Fire ignores these unless the contact is still in the queue entry they were set
      // for; epochs come from one counter, so a reused slot never matches an old one.
      const ContactRec& c = contacts_[t.slot];
      return c.in_use && c.queue_epoch == t.token;
    }
  }
  return true;
}

void Engine::Impl::DropStaleTimers() {
  size_t kept = 0;
  for (size_t i = 0; i < timers_.size(); ++i) {
    if (TimerLive(timers_[i])) timers_[kept++] = timers_[i];
  }
  timers_.resize(kept);
  heap::Make(timers_, TimerBefore, TimerMoved());
  timers_compact_at_ = std::max(kMinTimerCompaction, 2 * kept);
}

void Engine::Impl::CancelOfferTimer(uint32_t contact) {
  ContactRec& c = contacts_[contact];
  if (c.offer_timer < 0) return;
  const size_t pos = static_cast<size_t>(c.offer_timer);
  ACD_ASSERT(pos < timers_.size());
  ACD_ASSERT(timers_[pos].kind == TimerKind::kOfferTimeout);
  ACD_ASSERT(timers_[pos].slot == contact);
  c.offer_timer = -1;
  heap::Erase(timers_, pos, TimerBefore, TimerMoved());
}

void Engine::Impl::Fire(const Timer& t) {
  if (!TimerLive(t)) return;
  switch (t.kind) {
    case TimerKind::kOfferTimeout: {
      const ContactRec& c = contacts_[t.slot];
      if (!c.in_use || c.state != ContactState::kOffered || c.offer_id != t.token) return;
      DeclineOffer(c.agent, t.slot, EventType::kContactRona, kReasonRona);
      return;
    }
    case TimerKind::kWrapUpEnd: {
      AgentRec& a = agents_[t.slot];
      WorkItem* item = FindWork(a, t.token);
      ACD_ASSERT(item != nullptr && item->phase == WorkPhase::kWrapUp);  // TimerLive
      Accrue(a);
      RecordHandled(*item);
      RemoveWork(t.slot, t.token);
      UpdateShown(t.slot);
      RefreshAgent(t.slot);
      return;
    }
    case TimerKind::kExpansion: {
      ContactRec& c = contacts_[t.slot];
      if (c.step + 1 != t.aux) return;
      if (c.state != ContactState::kWaiting && c.state != ContactState::kOffered) return;
      c.step = static_cast<uint8_t>(t.aux);
      Event& e = ContactEvent(EventType::kContactExpanded, c);
      Emit(e);
      ScheduleNextExpansion(c, t.slot);
      if (c.state == ContactState::kWaiting) MoveToCurrentClass(t.slot);
      return;
    }
    case TimerKind::kPreferredFallback: {
      ContactRec& c = contacts_[t.slot];
      if (!c.preferred_active) return;
      if (c.state != ContactState::kWaiting && c.state != ContactState::kOffered) return;
      c.preferred_active = false;
      Event& e = ContactEvent(EventType::kContactExpanded, c);
      e.reason = "PREFERRED_AGENT_FALLBACK";
      Emit(e);
      if (c.state == ContactState::kWaiting) MoveToCurrentClass(t.slot);
      return;
    }
    case TimerKind::kMaxWait: {
      ContactRec& c = contacts_[t.slot];
      if (c.state == ContactState::kOffered) {
        c.overflow_due = true;  // overflows if the offer comes back
      } else if (c.state == ContactState::kWaiting) {
        RemoveWaiting(t.slot);
        Overflow(t.slot);
      }
      return;
    }
  }
}

// ============================================================================
// Lookups and validation
// ============================================================================

absl::StatusOr<uint32_t> Engine::Impl::FindContact(absl::string_view id) const {
  auto it = contact_index_.find(id);
  if (it == contact_index_.end()) {
    return absl::NotFoundError(absl::StrCat("contact '", id, "' is not known"));
  }
  return *it;
}

absl::StatusOr<uint32_t> Engine::Impl::FindLoggedInAgent(absl::string_view id) const {
  // Consecutive commands often name the same agent (a completion, then the acceptance of
  // the offer it made): the last agent found is compared before the index is probed.
  // An agent's record keeps its slot and its id for good, so a match is that agent.
  uint32_t slot = last_agent_found_;
  if (slot == kNone || !IdEqual(agents_[slot].id, id)) {
    auto it = agent_index_.find(id);
    if (it == agent_index_.end()) {
      return absl::NotFoundError(absl::StrCat("agent '", id, "' is not known"));
    }
    slot = *it;
    last_agent_found_ = slot;
  }
  if (!agents_[slot].logged_in) {
    return absl::FailedPreconditionError(absl::StrCat("agent '", id, "' is not logged in"));
  }
  return slot;
}

absl::StatusOr<uint32_t> Engine::Impl::FindQueue(absl::string_view name) const {
  // Arrivals come in runs to the same queue (an IVR menu's branch): the last queue found
  // is compared before the index is probed, which hashes the name. Queue names are unique
  // within the rules in force, so a match is that queue.
  if (last_queue_found_ != kNone && IdEqual(queues_[last_queue_found_].config.name, name)) {
    return last_queue_found_;
  }
  auto it = queue_index_.find(name);
  if (it == queue_index_.end()) {
    return absl::NotFoundError(absl::StrCat("queue '", name, "' does not exist"));
  }
  last_queue_found_ = it->second;
  return it->second;
}

absl::Status Engine::Impl::CheckPriority(int priority) const {
  const Limits& limits = config_.limits;
  if (priority < limits.min_priority || priority > limits.max_priority) {
    return absl::InvalidArgumentError(absl::StrCat("priority ", priority, " is outside [",
                                                   limits.min_priority, ", ",
                                                   limits.max_priority, "]"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckNotEnded(const ContactRec& c) const {
  if (IsFinal(c.state)) {
    return absl::FailedPreconditionError(absl::StrCat("contact '", c.id, "' has already ended (",
                                                      ContactStateName(c.state), ")"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::FindAgentAndContact(absl::string_view agent_id,
                                               absl::string_view contact_id, uint32_t* agent,
                                               uint32_t* contact) const {
  absl::StatusOr<uint32_t> a = FindLoggedInAgent(agent_id);
  if (!a.ok()) return a.status();
  // The contact of an accept, reject or complete is nearly always one of the agent's own
  // work items, whose records are live and indexed under their ids: comparing the ids
  // there spares the contact index's probe (a cache miss at scale). Any other contact
  // goes through the index, which gives the same slot or the error.
  for (const WorkItem& w : agents_[*a].work) {
    if (w.contact != kNone && IdEqual(contacts_[w.contact].id, contact_id)) {
      *agent = *a;
      *contact = w.contact;
      return absl::OkStatus();
    }
  }
  absl::StatusOr<uint32_t> c = FindContact(contact_id);
  if (!c.ok()) return c.status();
  *agent = *a;
  *contact = *c;
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckReason(absl::string_view reason) const {
  if (std::find(reasons_.begin(), reasons_.end(), reason) == reasons_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("'", reason.substr(0, 64),
                                                   "' is not a configured reason code"));
  }
  return absl::OkStatus();
}

bool Engine::Impl::IsOpen(const QueueRec& q) const {
  return !q.config.closed && q.config.hours.IsOpen(absl::FromUnixMicros(now_us_));
}

absl::Status Engine::Impl::CheckOpen(const QueueRec& q) const {
  if (q.config.closed) {
    return absl::FailedPreconditionError(absl::StrCat("queue '", q.config.name, "' is closed"));
  }
  if (!IsOpen(q)) {
    return absl::FailedPreconditionError(absl::StrCat("queue '", q.config.name,
                                                      "' is closed (outside business hours, ",
                                                      q.config.hours.zone_name, ")"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckQueueHasRoom(const QueueRec& q) const {
  if (absl::Status s = CheckOpen(q); !s.ok()) return s;
  return CheckLength(q);
}

absl::Status Engine::Impl::CheckLength(const QueueRec& q) const {
  if (q.waiting + q.in_offer >= q.config.max_length) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "queue '", q.config.name, "' is full (max_length ", q.config.max_length, ")"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckClassRoom(const ClassInputs& inputs, uint32_t queue,
                                          Channel channel) {
  DescribeClass(inputs, queue, channel);
  return CheckDescribedClassRoom();
}

absl::Status Engine::Impl::CheckDescribedClassRoom() {
  LookUpScratchClass();
  if (scratch_class_ == kNone &&
      live_classes_ >= static_cast<size_t>(config_.limits.max_requirement_classes)) {
    RetireOneIdleClass();  // make room if some class is idle
  }
  if (scratch_class_ == kNone &&
      (live_classes_ >= static_cast<size_t>(config_.limits.max_requirement_classes) ||
       (free_classes_.empty() && classes_.size() >= ServedClass::kMaxClasses))) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many distinct requirement sets (max_requirement_classes ",
        config_.limits.max_requirement_classes, ")"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckOfferedTo(const ContactRec& c, uint32_t agent,
                                          absl::string_view agent_id,
                                          absl::string_view contact_id) const {
  if (c.state != ContactState::kOffered || c.agent != agent) {
    return absl::FailedPreconditionError(absl::StrCat(
        "contact '", contact_id, "' has no pending offer to agent '", agent_id,
        "' (it is ", ContactStateName(c.state), "; the offer may have timed out or been withdrawn)"));
  }
  return absl::OkStatus();
}

// ============================================================================
// Requirement classes
// ============================================================================

void Engine::Impl::DescribeClass(const ClassInputs& c, uint32_t queue, Channel channel) {
  const QueueRec& q = queues_[queue];
  // Step-0 requirements: the queue's and the contact's own, at the higher level of each.
  scratch_alternatives_.resize(1);
  ReqSet& base = scratch_alternatives_.front();
  if (q.requirements.empty()) {
    base = *c.own;  // sorted by skill, each skill once, as MergeReq keeps it
  } else {
    base = q.requirements;
    for (const Req& r : *c.own) MergeReq(base, r);
  }
  if (c.language != kNone) MergeReq(base, Req{static_cast<uint16_t>(c.language), 1});
  int cap = 0;
  for (int i = 0; i < c.step && i < static_cast<int>(q.steps.size()); ++i) {
    if (q.steps[i].min_level_cap > 0) cap = q.steps[i].min_level_cap;
  }
  if (cap > 0) {
    for (Req& r : base) r.level = std::min<uint8_t>(r.level, static_cast<uint8_t>(cap));
  }
  for (int i = 0; i < c.step && i < static_cast<int>(q.steps.size()); ++i) {
    for (const Req& r : q.steps[i].also_accept) {
      ReqSet alt = {r};
      if (c.language != kNone) MergeReq(alt, Req{static_cast<uint16_t>(c.language), 1});
      scratch_alternatives_.push_back(std::move(alt));
    }
  }
  if (scratch_alternatives_.size() > 1) {
    std::sort(scratch_alternatives_.begin(), scratch_alternatives_.end(),
              [](const ReqSet& a, const ReqSet& b) {
                return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
              });
    scratch_alternatives_.erase(
        std::unique(scratch_alternatives_.begin(), scratch_alternatives_.end()),
        scratch_alternatives_.end());
  }
  const bool preferred = c.preferred_active && queues_[queue].WaitsForPreferred(c.preferred);
  scratch_queue_ = queue;
  scratch_channel_ = channel;
  scratch_preferred_ = preferred ? c.preferred : absl::string_view();
  scratch_hash_ = ScratchDesc().Hash();
  scratch_looked_up_ = false;
}

void Engine::Impl::LookUpScratchClass() {
  if (scratch_looked_up_) return;
  auto it = class_index_.find(ScratchKey());
  scratch_class_ = it == class_index_.end() ? kNone : *it;
  scratch_looked_up_ = true;
}

uint32_t Engine::Impl::InternClass() {
  LookUpScratchClass();
  if (scratch_class_ != kNone) return scratch_class_;
  uint32_t id;
  if (!free_classes_.empty()) {
    id = free_classes_.back();
    free_classes_.pop_back();
  } else {
    id = static_cast<uint32_t>(classes_.size());
    classes_.emplace_back();
    heads_.emplace_back();
  }
  scratch_class_ = id;
  RequirementClass& cls = classes_[id];
  ACD_ASSERT(!cls.live);
  cls.live = true;
  ++live_classes_;
  ++idle_live_classes_;  // no one waits in it yet
  cls.queue = scratch_queue_;
  cls.channel = scratch_channel_;
  if (!scratch_preferred_.empty()) {
    cls.preferred_agent = std::make_unique<std::string>(scratch_preferred_);
  }
  cls.alternatives.assign(scratch_alternatives_.begin(), scratch_alternatives_.end());
  class_index_.insert(id);  // after the description is in place: the index reads it
  cls.queue_pos = static_cast<uint32_t>(queues_[cls.queue].classes.size());
  queues_[cls.queue].classes.push_back(id);
  ListIfIdle(id);
  // Tell every logged-in agent who can serve the new class about it, once per distinct
  // requirement set.
  const std::vector<uint32_t>& candidates = Candidates(cls);
  for (uint32_t a : candidates) {
    AgentRec& agent = agents_[a];
    if (!agent.logged_in || !Eligible(agent, classes_[id])) continue;
    AddServed(a, id);
    if (agent.ready) ++classes_[id].staffed;
    // The class has no waiting contacts yet, so a free agent simply joins its heap.
    if (agent.indexed && Routable(agent) && HasCapacity(agent, cls.channel)) {
      JoinHeap(a, static_cast<uint32_t>(agent.served.size() - 1));
    }
  }
  return id;
}

const std::vector<uint32_t>& Engine::Impl::Candidates(const RequirementClass& cls) {
  // Only agents holding each alternative's rarest skill at its level can qualify, and of
  // those only agents whose skill bits cover the alternative's: those are the candidates
  // (all agents if an alternative needs no skill), in slot order.
  std::vector<uint32_t>& candidates = scratch_agents_;
  candidates.clear();
  bool everyone = cls.alternatives.empty();
  for (const ReqSet& alt : cls.alternatives) {
    if (alt.empty()) {
      everyone = true;
      break;
    }
    const std::vector<SkillHolder>* rarest = nullptr;
    uint8_t rarest_level = 0;
    uint64_t bits = 0;
    for (const Req& r : alt) {
      bits |= SkillBits(r.skill);
      const std::vector<SkillHolder>& holders = skill_agents_[r.skill];
      if (rarest == nullptr || holders.size() < rarest->size()) {
        rarest = &holders;
        rarest_level = r.level;
      }
    }
    for (const SkillHolder& h : *rarest) {
      if (h.level < rarest_level || (bits & ~h.skill_bits) != 0) continue;
      candidates.push_back(h.agent);
    }
  }
  if (everyone) {
    candidates.resize(agents_.size());
    for (uint32_t a = 0; a < agents_.size(); ++a) candidates[a] = a;
  } else {
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  }
  // The caller checks each candidate (Eligible) and edits its served list. Those
  // records are scattered and usually cold: ask for all of them first, so the misses
  // overlap instead of coming one after another.
  if (candidates.size() <= 64) {
    for (uint32_t a : candidates) {
      const AgentRec& agent = agents_[a];
      __builtin_prefetch(&agent.logged_in);
      __builtin_prefetch(&agent.served);
      __builtin_prefetch(&agent.served_links);
      // The list headers end on the record's next line (push_back reads its capacity).
      __builtin_prefetch(reinterpret_cast<const char*>(&agent.served_links + 1) - 1);
    }
    for (uint32_t a : candidates) {
      const AgentRec& agent = agents_[a];
      // Where AddServed writes: the entry after each list's last.
      __builtin_prefetch(agent.served.data() + agent.served.size());
      __builtin_prefetch(agent.served_links.data() + agent.served_links.size());
    }
  }
  return candidates;
}

void Engine::Impl::ListIfIdle(uint32_t id) {
  RequirementClass& cls = classes_[id];
  if (!cls.live || cls.idle_listed || !cls.waiting.empty()) return;
  cls.idle_listed = true;
  idle_classes_.Push(id);
}

void Engine::Impl::RetireIdleClasses() {
  // Keep idle classes for requirement sets that come back, as many as there are classes
  // in use (plus idle_classes_kept); retire the ones idle longest (first listed) beyond
  // that. Retiring costs about what creating did (each member agent's list is edited),
  // so a tighter bound, which shortens the agents' scans, saves about what the extra
  // retirements and re-creations cost: at benchmark scale 2 in its steady state (a new
  // class per two arrivals), in_use / 4 measured the same as in_use (callgrind: -0.5%
  // instructions, -2.5% last-level misses).
  const size_t in_use = live_classes_ - idle_live_classes_;
  const size_t keep = options_.idle_classes_kept + in_use;
  while (idle_live_classes_ > keep && !idle_classes_.empty()) {
    const uint32_t id = idle_classes_.Pop();
    RequirementClass& cls = classes_[id];
    cls.idle_listed = false;
    if (cls.live && cls.waiting.empty()) RetireClass(id);
  }
}

void Engine::Impl::RetireOneIdleClass() {
  while (!idle_classes_.empty()) {
    const uint32_t id = idle_classes_.Pop();
    RequirementClass& cls = classes_[id];
    cls.idle_listed = false;
    if (cls.live && cls.waiting.empty()) {
      RetireClass(id);
      return;
    }
  }
}

void Engine::Impl::RetireClass(uint32_t id) {
  RequirementClass& cls = classes_[id];
  ACD_ASSERT(cls.live);
  ACD_ASSERT(cls.waiting.empty());
  queues_[cls.queue].recent_classes.Forget(id);
  // Its members drop it from their lists, and their places in its available heap, which
  // goes away with the class. Their records and lists are usually cold: ask for all of
  // them first (records, then the entries edited), so the misses overlap.
  if (cls.members.size() <= 64) {
    for (const ClassMember& m : cls.members) __builtin_prefetch(&agents_[m.agent].served);
    for (const ClassMember& m : cls.members) {
      const AgentRec& agent = agents_[m.agent];
      __builtin_prefetch(&agent.served[m.served_index]);
      __builtin_prefetch(&agent.served_links[m.served_index]);
      __builtin_prefetch(&agent.served.back());
      __builtin_prefetch(&agent.served_links.back());
    }
  }
  for (const ClassMember& m : cls.members) {
    AgentRec& agent = agents_[m.agent];
    ACD_ASSERT(agent.served[m.served_index].cls() == id);
    if (agent.served_links[m.served_index].heap_pos >= 0) {
      agent.served_links[m.served_index].heap_pos = -1;
      --agent.heaps_joined;
    }
    // Only the agent's side: the member list is dropped whole below, so it is not edited
    // while being walked.
    RemoveServedEntry(m.agent, m.served_index);
  }
  cls.members.clear();
  class_index_.erase(id);  // while its description is still there to hash
  std::vector<uint32_t>& of_queue = queues_[cls.queue].classes;
  const uint32_t moved = of_queue.back();
  of_queue[cls.queue_pos] = moved;
  classes_[moved].queue_pos = cls.queue_pos;
  of_queue.pop_back();
  cls.live = false;
  cls.preferred_agent.reset();
  cls.alternatives.clear();
  cls.available.clear();
  cls.waiting.ReleaseIfLarge(16);
  cls.staffed = 0;
  --live_classes_;
  --idle_live_classes_;
  free_classes_.push_back(id);
  scratch_looked_up_ = false;  // a looked-up id may be this one
}

void Engine::Impl::AddServed(uint32_t agent, uint32_t cls) {
  AgentRec& a = agents_[agent];
  std::vector<ClassMember>& members = classes_[cls].members;
  a.served_links.push_back(ServedLinks{-1, static_cast<uint32_t>(members.size())});
  members.push_back(ClassMember{agent, static_cast<uint32_t>(a.served.size())});
  a.served.emplace_back(cls, PoolOf(classes_[cls].channel));
}

void Engine::Impl::DropServed(uint32_t agent, uint32_t i) {
  AgentRec& a = agents_[agent];
  // Out of the class's member list (the last member takes its place)...
  std::vector<ClassMember>& members = classes_[a.served[i].cls()].members;
  const uint32_t pos = a.served_links[i].member_pos;
  if (pos + 1 != members.size()) {
    const ClassMember moved = members.back();
    members[pos] = moved;
    agents_[moved.agent].served_links[moved.served_index].member_pos = pos;
  }
  members.pop_back();
  // ...then out of the agent's list.
  RemoveServedEntry(agent, i);
}

void Engine::Impl::RemoveServedEntry(uint32_t agent, uint32_t i) {
  AgentRec& a = agents_[agent];
  ACD_ASSERT(a.served_links[i].heap_pos == -1);
  // The agent's last entry takes the place; whatever points at that entry, its class's
  // member list and heap, follows.
  const uint32_t last = static_cast<uint32_t>(a.served.size() - 1);
  if (i != last) {
    a.served[i] = a.served[last];
    a.served_links[i] = a.served_links[last];
    RequirementClass& moved = classes_[a.served[i].cls()];
    moved.members[a.served_links[i].member_pos].served_index = i;
    if (a.served_links[i].heap_pos >= 0) moved.available[a.served_links[i].heap_pos].served_index = i;
  }
  a.served.pop_back();
  a.served_links.pop_back();
}

int Engine::Impl::LevelOf(const AgentRec& a, uint16_t skill) {
  auto it = std::lower_bound(a.skills.begin(), a.skills.end(), Req{skill, 0},
                             [](const Req& x, const Req& y) { return x.skill < y.skill; });
  return (it != a.skills.end() && it->skill == skill) ? it->level : 0;
}

bool Engine::Impl::MeetsAll(const AgentRec& a, const ReqSet& set) {
  // Both lists are sorted by skill, each skill once: one walk over the agent's skills.
  const Req* skill = a.skills.data();
  const Req* const end = skill + a.skills.size();
  for (const Req& r : set) {
    while (skill != end && skill->skill < r.skill) ++skill;
    if (skill == end || skill->skill != r.skill || skill->level < r.level) return false;
    ++skill;
  }
  return true;
}

bool Engine::Impl::Eligible(const AgentRec& a, const RequirementClass& cls) const {
  if (!a.logged_in) return false;
  if (a.capacity[static_cast<int>(PoolOf(cls.channel))] == 0) return false;
  if (cls.preferred_agent != nullptr && *cls.preferred_agent != a.id) return false;
  for (const ReqSet& alt : cls.alternatives) {
    if (MeetsAll(a, alt)) return true;
  }
  return false;
}

// ============================================================================
// Contacts
// ============================================================================

absl::Status Engine::Impl::Enqueue(const EnqueueRequest& r) {
  Sync();
  RetireIdleClasses();
  const Limits& limits = config_.limits;
  if (!IsValidId(r.contact_id, limits.max_id_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact_id must be 1-", limits.max_id_bytes, " printable characters without spaces"));
  }
  // The id is new, so its place in the index is cold: ask for it now, and check it after
  // the requirements below, which read only warm tables.
  const HashedId id_key{r.contact_id, contact_index_.hash_function()(absl::string_view(r.contact_id))};
  contact_index_.prefetch(id_key);
  absl::StatusOr<uint32_t> queue = FindQueue(r.queue);
  if (!queue.ok()) return queue.status();
  QueueRec& q = queues_[*queue];
  if (!q.takes[static_cast<int>(r.channel)]) {
    return absl::InvalidArgumentError(absl::StrCat("queue '", r.queue, "' does not take ",
                                                   ChannelName(r.channel), " contacts"));
  }
  const int priority = r.priority.value_or(q.config.default_priority);
  if (absl::Status s = CheckPriority(priority); !s.ok()) return s;
  if (r.requirements.size() > static_cast<size_t>(limits.max_requirements_per_contact)) {
    return absl::InvalidArgumentError(absl::StrCat("more than ",
                                                   limits.max_requirements_per_contact,
                                                   " requirements"));
  }
  ReqSet own;
  uint32_t language = kNone;
  for (const SkillRequirement& req : r.requirements) {
    auto it = skill_index_.find(req.skill);
    if (it == skill_index_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown skill '", req.skill.substr(0, 64), "'"));
    }
    if (req.min_level < kMinSkillLevel || req.min_level > kMaxSkillLevel) {
      return absl::InvalidArgumentError(absl::StrCat("skill '", req.skill, "' min_level ",
                                                     req.min_level, " is outside 1-10"));
    }
    for (const Req& existing : own) {
      if (existing.skill == it->second) {
        return absl::InvalidArgumentError(absl::StrCat("skill '", req.skill, "' is required twice"));
      }
    }
    // Built in place: a Req built on the stack and then copied was two narrow stores
    // and a wide load, a store-forwarding stall (6.4% of Enqueue's samples at scale 1).
    own.emplace_back(it->second, static_cast<uint8_t>(req.min_level));
  }
  // By skill, as MergeReq keeps sets: each skill is once. Most contacts need one skill or
  // none; the profile-guided build had put the call to sort them in cold code.
  if (own.size() > 1) std::sort(own.begin(), own.end());
  if (!r.language.empty()) {
    auto it = skill_index_.find(r.language);
    if (it == skill_index_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("language '", r.language.substr(0, 64), "' is not a configured skill"));
    }
    language = it->second;
  }
  // Where the contact goes and its class's description, ahead of the checks below (their
  // errors keep their order): the class index's control bytes and slot for it are cold at
  // scale, so they are asked for now and arrive while the rest is checked.
  uint32_t target = *queue;
  Channel channel = r.channel;
  const absl::Status arrival = ResolveArrival(&target, &channel);
  const ClassInputs inputs{&own, language, 0, /*preferred_active=*/true, r.preferred_agent_id};
  // Without a preferred agent in play, the class depends only on these (step 0).
  const bool plain = !queues_[target].WaitsForPreferred(r.preferred_agent_id);
  const u128 needs = plain ? RecentClasses::Key(channel, language, own) : RecentClasses::kNoKey;
  const uint32_t recent = arrival.ok() && needs != RecentClasses::kNoKey
                              ? queues_[target].recent_classes.Find(needs)
                              : kNone;
  if (recent != kNone) {
    scratch_class_ = recent;
    scratch_looked_up_ = true;  // CheckDescribedClassRoom and InternClass take it as found
  } else if (arrival.ok()) {
    DescribeClass(inputs, target, channel);
    class_index_.prefetch(ScratchKey());
  }
  if (!r.preferred_agent_id.empty() && !IsValidId(r.preferred_agent_id, limits.max_id_bytes)) {
    return absl::InvalidArgumentError("preferred_agent_id is not a valid agent id");
  }
  if (r.attributes.size() > static_cast<size_t>(limits.max_attributes)) {
    return absl::InvalidArgumentError(absl::StrCat("more than ", limits.max_attributes,
                                                   " attributes"));
  }
  for (const Attribute& attr : r.attributes) {
    // Attribute values may hold patient data: never echo them in a message.
    if (attr.first.empty() || attr.first.size() > static_cast<size_t>(limits.max_attribute_key_bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute keys must be 1-", limits.max_attribute_key_bytes, " bytes"));
    }
    if (attr.second.size() > static_cast<size_t>(limits.max_attribute_value_bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute values must be at most ", limits.max_attribute_value_bytes, " bytes"));
    }
  }
  if (contact_index_.contains(id_key)) {
    return absl::AlreadyExistsError(absl::StrCat("contact '", r.contact_id, "' already exists"));
  }
  if (!arrival.ok()) return arrival;
  if (absl::Status s = CheckLength(queues_[target]); !s.ok()) return s;
  if (live_contacts_ >= limits.max_contacts) {
    return absl::ResourceExhaustedError(absl::StrCat("the engine holds its maximum of ",
                                                     limits.max_contacts, " contacts"));
  }
  if (absl::Status s = CheckDescribedClassRoom(); !s.ok()) return s;

  // Valid: from here on nothing fails.
  uint32_t slot;
  if (!free_contacts_.empty()) {
    slot = free_contacts_.back();
    free_contacts_.pop_back();
  } else {
    slot = static_cast<uint32_t>(contacts_.size());
    contacts_.emplace_back();
  }
  ContactRec& c = contacts_[slot];
  c.Reset();
  c.in_use = true;
  c.id.assign(r.contact_id);
  c.channel = channel;
  c.priority = priority;
  c.own = own;
  c.language = language;
  c.set_preferred(r.preferred_agent_id);
  c.set_attributes(r.attributes);
  c.seq = ++arrival_seq_;
  c.arrival_us = now_us_;
  contact_index_.lazy_emplace(id_key, [slot](const auto& construct) { construct(slot); });
  ++live_contacts_;
  // Described above: exactly this contact's step-0 class; intern it once.
  const uint32_t cls = InternClass();
  if (needs != RecentClasses::kNoKey && recent == kNone) {
    queues_[target].recent_classes.Add(needs, cls);
  }
  EnterQueue(slot, target, cls);
  Event& e = ContactEvent(EventType::kContactQueued, c);
  Emit(e);
  Route(slot);
  return absl::OkStatus();
}

absl::Status Engine::Impl::ResolveArrival(uint32_t* queue, Channel* channel) const {
  // Closed-overflow chains are acyclic (ValidateConfig), so this ends.
  for (size_t hops = 0; hops <= queues_.size(); ++hops) {
    const QueueRec& q = queues_[*queue];
    if (IsOpen(q)) return absl::OkStatus();
    switch (q.config.closed_treatment) {
      case ClosedTreatment::kRefuse:
        return CheckOpen(q);
      case ClosedTreatment::kOverflow:
        *queue = q.closed_overflow_target;
        continue;
      case ClosedTreatment::kCallback:
        if (*channel == Channel::kChat) return CheckOpen(q);  // nobody to chat with
        if (*channel == Channel::kVoice) *channel = Channel::kCallback;
        return absl::OkStatus();
    }
  }
  ACD_ASSERT(false);  // a closed-overflow cycle slipped through validation
  return absl::InternalError("closed-overflow cycle");
}

void Engine::Impl::EnterQueue(uint32_t slot, uint32_t queue,
                              std::optional<uint32_t> cls) {
  QueueRec& q = queues_[queue];
  ContactRec& c = contacts_[slot];
  c.queue = queue;
  c.state = ContactState::kWaiting;
  c.agent = kNone;
  c.queue_entry_us = now_us_;
  c.queue_epoch = ++epoch_seq_;
  c.step = 0;
  c.overflow_due = false;
  c.preferred_active = q.WaitsForPreferred(c.preferred());
  Count(q, &QueueCounters::offered);
  if (q.max_wait_us >= 0) {
    Schedule(now_us_ + q.max_wait_us, TimerKind::kMaxWait, slot, c.queue_epoch);
  }
  ScheduleNextExpansion(c, slot);
  if (c.preferred_active) {
    Schedule(now_us_ + q.preferred_wait_us, TimerKind::kPreferredFallback, slot, c.queue_epoch);
  }
  c.cls = cls.has_value() ? *cls : ClassFor(c);
}

void Engine::Impl::ScheduleNextExpansion(const ContactRec& c, uint32_t slot) {
  const QueueRec& q = queues_[c.queue];
  if (c.step < q.steps.size()) {
    Schedule(c.queue_entry_us + q.steps[c.step].after_us, TimerKind::kExpansion, slot,
             c.queue_epoch, c.step + 1);
  }
}

void Engine::Impl::Route(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  ACD_ASSERT(c.state == ContactState::kWaiting);
  ACD_ASSERT(c.heap_pos == -1);
  RequirementClass& cls = classes_[c.cls];
  if (cls.available.empty()) {
    PushWaiting(slot);
    return;
  }
  const uint32_t agent = cls.available.front().agent;
  MakeOffer(agent, slot);
  RefreshAgent(agent);
}

void Engine::Impl::Requeue(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  c.state = ContactState::kWaiting;
  c.agent = kNone;
  if (c.overflow_due) {
    Overflow(slot);
    return;
  }
  c.cls = ClassFor(c);  // its expansion step may have moved on while it was offered
  Route(slot);
}

void Engine::Impl::UpdateHead(uint32_t cls) {
  const WaitingSet& waiting = classes_[cls].waiting;
  const bool was_idle = heads_[cls].empty();
  heads_[cls] = waiting.empty() ? ClassHead{}
                                 : ClassHead{RankOf(waiting.front())};
  if (was_idle != waiting.empty()) {
    if (waiting.empty()) {
      ++idle_live_classes_;
      ListIfIdle(cls);
    } else {
      --idle_live_classes_;
    }
  }
}

void Engine::Impl::PushWaiting(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  const int64_t key = KeyOf(c);
  if (classes_[c.cls].waiting.Push(ContactEntry{key, c.seq, slot}, ContactMoved())) {
    UpdateHead(c.cls);
  }
  QueueRec& q = queues_[c.queue];
  ++q.waiting;
  if (q.ranks) q.ranks->Insert(ContactRank(key, c.seq));
}

void Engine::Impl::RemoveWaiting(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  ACD_ASSERT(c.heap_pos >= 0);
  WaitingSet& waiting = classes_[c.cls].waiting;
  QueueRec& q = queues_[c.queue];
  if (q.ranks) q.ranks->Erase(RankOf(waiting.at(c.heap_pos)));
  waiting.Erase(c.heap_pos, ContactMoved());
  UpdateHead(c.cls);
  c.heap_pos = -1;
  --q.waiting;
}

std::vector<RankIndex::Rank> Engine::Impl::WaitingRanks(const QueueRec& q) const {
  std::vector<RankIndex::Rank> ranks;
  ranks.reserve(static_cast<size_t>(q.waiting));
  for (uint32_t cls : q.classes) {
    classes_[cls].waiting.ForEach([&](const ContactEntry& e) { ranks.push_back(RankOf(e)); });
  }
  std::sort(ranks.begin(), ranks.end());
  return ranks;
}

void Engine::Impl::MoveToCurrentClass(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  const uint32_t cls = ClassFor(c);
  if (cls == c.cls) return;
  RemoveWaiting(slot);
  c.cls = cls;
  Route(slot);
}

void Engine::Impl::Overflow(uint32_t slot) {
  ContactRec& c = contacts_[slot];
  ACD_ASSERT(c.heap_pos == -1);
  const uint32_t from = c.queue;
  QueueRec& origin = queues_[from];
  Count(origin, &QueueCounters::overflowed);
  const uint32_t target = origin.overflow_target;
  if (target != kNone && CheckQueueHasRoom(queues_[target]).ok()) {
    EnterQueue(slot, target);
    Event& e = ContactEvent(EventType::kContactOverflowed, c);
    e.from_queue = origin.config.name;
    Emit(e);
    Route(slot);
    return;
  }
  // No target, or it is closed or full: the contact leaves (the gateway sends the caller
  // to voicemail or a message).
  Event& e = ContactEvent(EventType::kContactOverflowed, c);
  e.from_queue = origin.config.name;
  e.queue = {};
  FinishContact(slot, ContactState::kOverflowed);
  Emit(e);
}

void Engine::Impl::FinishContact(uint32_t slot, ContactState final_state) {
  ContactRec& c = contacts_[slot];
  ACD_ASSERT(IsFinal(final_state));
  ACD_ASSERT(c.heap_pos == -1);
  if (c.state == ContactState::kWaiting || c.state == ContactState::kOffered) c.ended_us = now_us_;
  c.state = final_state;
  c.agent = kNone;
  c.queue_epoch = ++epoch_seq_;
  c.drop_attributes();
  --live_contacts_;
  const size_t retained = static_cast<size_t>(config_.limits.max_finished_contacts_retained);
  const Finished ended{slot, contact_index_.hash_function()(absl::string_view(c.id))};
  if (finished_.size() < retained) {
    finished_.push_back(ended);
    return;
  }
  const Finished old = finished_[finished_next_];
  finished_[finished_next_] = ended;
  finished_next_ = (finished_next_ + 1) % retained;
  Forget(old);
  // The contact forgotten next ended long ago: its record and its index entry are cold
  // by now (three dependent misses at scale 2, most of this function's time). Ask for
  // them one ending ahead.
  const Finished& next = finished_[finished_next_];
  __builtin_prefetch(&contacts_[next.slot]);
  contact_index_.prefetch(HashedId{absl::string_view(), next.hash});
}

void Engine::Impl::Forget(const Finished& f) {
  ContactRec& c = contacts_[f.slot];
  ACD_ASSERT(IsFinal(c.state));
  const size_t erased = contact_index_.erase(HashedId{c.id, f.hash});
  ACD_ASSERT(erased == 1);
  c.Reset();
  free_contacts_.push_back(f.slot);
}

absl::Status Engine::Impl::Cancel(absl::string_view contact_id, absl::string_view reason) {
  Sync();
  if (reason.size() > 64) return absl::InvalidArgumentError("reason is longer than 64 bytes");
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  ContactRec& c = contacts_[*slot];
  if (c.state == ContactState::kConnected) {
    return absl::FailedPreconditionError(absl::StrCat(
        "contact '", contact_id, "' is connected to agent '", agents_[c.agent].id,
        "'; the agent completes it"));
  }
  if (absl::Status s = CheckNotEnded(c); !s.ok()) return s;
  uint32_t agent = kNone;
  QueueRec& q = queues_[c.queue];
  if (c.state == ContactState::kWaiting) {
    RemoveWaiting(*slot);
  } else {
    agent = c.agent;
    Accrue(agents_[agent]);
    RemoveWork(agent, c.offer_id);
    --q.in_offer;
  }
  Count(q, &QueueCounters::abandoned);
  Event& e = ContactEvent(EventType::kContactAbandoned, c);
  e.reason = reason;
  FinishContact(*slot, ContactState::kAbandoned);
  Emit(e);
  if (agent != kNone) {
    UpdateShown(agent);
    RefreshAgent(agent);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ChangePriority(absl::string_view contact_id, int priority) {
  Sync();
  if (absl::Status s = CheckPriority(priority); !s.ok()) return s;
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  ContactRec& c = contacts_[*slot];
  if (c.state != ContactState::kWaiting && c.state != ContactState::kOffered) {
    return absl::FailedPreconditionError(absl::StrCat("contact '", contact_id, "' is ",
                                                      ContactStateName(c.state),
                                                      ", not waiting"));
  }
  c.priority = priority;
  if (c.heap_pos >= 0) {
    WaitingSet& waiting = classes_[c.cls].waiting;
    const u128 old_rank = RankOf(waiting.at(c.heap_pos));
    const int64_t key = KeyOf(c);
    waiting.Rekey(c.heap_pos, key, ContactMoved());
    if (const QueueRec& q = queues_[c.queue]; q.ranks) {
      q.ranks->Erase(old_rank);
      q.ranks->Insert(ContactRank(key, c.seq));
    }
    UpdateHead(c.cls);
  }
  Event& e = ContactEvent(EventType::kContactPriorityChanged, c);
  Emit(e);
  return absl::OkStatus();
}

absl::Status Engine::Impl::Transfer(absl::string_view contact_id, absl::string_view queue) {
  Sync();
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  absl::StatusOr<uint32_t> target = FindQueue(queue);
  if (!target.ok()) return target.status();
  ContactRec& c = contacts_[*slot];
  if (absl::Status s = CheckNotEnded(c); !s.ok()) return s;
  if (*target == c.queue) {
    return absl::InvalidArgumentError(absl::StrCat("contact '", contact_id,
                                                   "' is already in queue '", queue, "'"));
  }
  QueueRec& to = queues_[*target];
  if (!to.takes[static_cast<int>(c.channel)]) {
    return absl::InvalidArgumentError(absl::StrCat("queue '", queue, "' does not take ",
                                                   ChannelName(c.channel), " contacts"));
  }
  if (absl::Status s = CheckQueueHasRoom(to); !s.ok()) return s;
  {
    const ClassInputs inputs{&c.own, c.language, 0, /*preferred_active=*/true, c.preferred()};
    if (absl::Status s = CheckClassRoom(inputs, *target, c.channel); !s.ok()) return s;
  }

  QueueRec& from = queues_[c.queue];
  const uint32_t agent = c.agent;
  if (c.state == ContactState::kWaiting) {
    RemoveWaiting(*slot);
  } else if (c.state == ContactState::kOffered) {
    Accrue(agents_[agent]);
    RemoveWork(agent, c.offer_id);
    --from.in_offer;
  } else {
    ACD_ASSERT(c.state == ContactState::kConnected);
    // The agent's part ends: after-call work for the transfer, counted as handled.
    Accrue(agents_[agent]);
    ++agents_[agent].handled;
    EndConnection(agent, c.offer_id);
  }
  if (c.state != ContactState::kConnected) {
    Count(from, &QueueCounters::transferred_out);
  }
  // The agent's freed capacity must not be used before it is refreshed below: out of
  // every heap until then, or it could take the transferred contact while a better one
  // that it could now also take waits elsewhere.
  if (agent != kNone) RemoveFromHeaps(agent);
  const absl::string_view from_name = from.config.name;
  EnterQueue(*slot, *target);
  Event& e = ContactEvent(EventType::kContactTransferred, c);
  e.from_queue = from_name;
  Emit(e);
  Route(*slot);
  if (agent != kNone) {
    UpdateShown(agent);
    RefreshAgent(agent);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Escalate(absl::string_view contact_id) {
  Sync();
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  const QueueRec& q = queues_[contacts_[*slot].queue];
  if (q.escalation_target == kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue '", q.config.name, "' has no escalation_queue"));
  }
  return Transfer(contact_id, queues_[q.escalation_target].config.name);
}

absl::Status Engine::Impl::RequestCallback(absl::string_view contact_id) {
  Sync();
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  ContactRec& c = contacts_[*slot];
  if (c.state != ContactState::kWaiting || c.channel != Channel::kVoice) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only a waiting VOICE contact can ask for a callback; contact '", contact_id, "' is ",
        ContactStateName(c.state), " on ", ChannelName(c.channel)));
  }
  QueueRec& q = queues_[c.queue];
  if (!q.takes[static_cast<int>(Channel::kCallback)]) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue '", q.config.name, "' does not take CALLBACK contacts"));
  }
  if (absl::Status s = CheckClassRoom(InputsOf(c), c.queue, Channel::kCallback); !s.ok()) {
    return s;
  }
  RemoveWaiting(*slot);
  c.channel = Channel::kCallback;
  c.cls = InternClass();  // described by CheckClassRoom just above
  Event& e = ContactEvent(EventType::kContactCallbackRequested, c);
  Emit(e);
  Route(*slot);
  return absl::OkStatus();
}

// ============================================================================
// Agents
// ============================================================================

bool Engine::Impl::HasCapacity(const AgentRec& a, Channel channel) const {
  const int pool = static_cast<int>(PoolOf(channel));
  if (a.capacity[pool] == 0) return false;
  if (PoolOf(channel) == CapacityPool::kVoice) return TotalUsed(a) == 0;
  return a.used[static_cast<int>(CapacityPool::kVoice)] == 0 && a.used[pool] < a.capacity[pool];
}

void Engine::Impl::AccrueInto(const AgentRec& a, int64_t until_us, int64_t* work_us,
                              int64_t* idle_us) {
  const int64_t elapsed = until_us - a.accrued_at_us;
  if (!a.logged_in || elapsed <= 0) return;
  // Connected contacts and wrap-up are work; a pending offer alone is still idle time.
  const bool working = std::any_of(a.work.begin(), a.work.end(), [](const WorkItem& w) {
    return w.phase != WorkPhase::kOffered;
  });
  if (working) {
    *work_us += elapsed;
  } else if (a.ready) {
    *idle_us += elapsed;
  }
}

void Engine::Impl::Accrue(AgentRec& a) {
  AccrueInto(a, now_us_, &a.work_us, &a.idle_us);
  a.accrued_at_us = now_us_;
}

void Engine::Impl::SetPresence(uint32_t agent, bool ready, absl::string_view reason) {
  AgentRec& a = agents_[agent];
  Accrue(a);
  if (a.ready != ready) {
    for (const ServedClass& s : a.served) classes_[s.cls()].staffed += ready ? 1 : -1;
    if (ready && a.work.empty()) a.idle_since_us = now_us_;
  }
  a.ready = ready;
  a.reason.assign(reason.data(), reason.size());
  if (!ready) RemoveFromHeaps(agent);
}

void Engine::Impl::UpdateShown(uint32_t agent) {
  AgentRec& a = agents_[agent];
  AgentState state;
  bool offered = false, connected = false, wrap_up = false;  // one pass over the work
  for (const WorkItem& w : a.work) {
    offered |= w.phase == WorkPhase::kOffered;
    connected |= w.phase == WorkPhase::kConnected;
    wrap_up |= w.phase == WorkPhase::kWrapUp;
  }
  if (!a.logged_in) {
    state = AgentState::kLoggedOut;
  } else if (offered) {
    state = AgentState::kReserved;
  } else if (connected) {
    state = AgentState::kBusy;
  } else if (wrap_up) {
    state = AgentState::kWrapUp;
  } else {
    state = a.ready ? AgentState::kReady : AgentState::kNotReady;
  }
  const absl::string_view reason =
      state == AgentState::kNotReady ? absl::string_view(a.reason) : absl::string_view();
  // Only NOT_READY shows a reason (shown_reason is empty in every other state), so the
  // other states compare and keep no reason: shown_reason is on a line of its own.
  const bool with_reason = state == AgentState::kNotReady || a.shown == AgentState::kNotReady;
  if (state == a.shown && (!with_reason || reason == a.shown_reason)) return;
  a.shown = state;
  if (with_reason) a.shown_reason.assign(reason.data(), reason.size());
  a.state_since_us = now_us_;
  Event& e = NewEvent(EventType::kAgentStateChanged);
  e.agent_id = a.id;
  e.agent_state = state;
  e.reason = reason;
  Emit(e);
}

void Engine::Impl::RemoveFromHeaps(uint32_t agent) {
  AgentRec& a = agents_[agent];
  a.indexed = false;
  if (a.heaps_joined == 0) return;  // busy agents: nothing to scan
  a.heaps_joined = 0;
  for (size_t i = 0; i < a.served.size(); ++i) {
    if (a.served_links[i].heap_pos < 0) continue;
    const size_t pos = static_cast<size_t>(a.served_links[i].heap_pos);
    a.served_links[i].heap_pos = -1;
    heap::Erase(classes_[a.served[i].cls()].available, pos, AgentLess, AgentMoved());
  }
}

void Engine::Impl::RefreshAgent(uint32_t agent) {
  RemoveFromHeaps(agent);
  AgentRec& a = agents_[agent];
  if (!Routable(a)) return;
  // Take the best waiting contacts across every class served, while capacity lasts.
  // The scan reads only the dense class heads, and skips pools the agent has no room in.
  std::array<bool, kCapacityPoolCount> room{};
  bool all_room = false;  // room in every pool the agent has capacity in
  auto has_room = [&] {
    bool any = false;
    all_room = true;
    for (int p = 0; p < kCapacityPoolCount; ++p) {
      room[p] = HasCapacity(a, PoolChannel(static_cast<CapacityPool>(p)));
      any = any || room[p];
      all_room = all_room && (room[p] || a.capacity[p] == 0);
    }
    return any;
  };
  bool any_room;
  while ((any_room = has_room())) {
    ClassHead best;  // empty
    uint32_t best_cls = kNone;
    const ServedClass* const served = a.served.data();
    const size_t n = a.served.size();
    const ClassHead* const heads = heads_.data();
    // The scan is most of a cycle at scale 2 (75 classes an agent): kept to a few
    // instructions a class. A class is served only on a pool the agent has capacity in
    // (Eligible), so with room in all of those (the usual case) no pool is checked.
    auto scan = [&](auto check_room) {
      auto visit = [&](size_t i) {
        const ServedClass s = served[i];
        if (check_room && !room[static_cast<int>(s.pool())]) return;
        const ClassHead head = heads[s.cls()];
        if (head.rank < best.rank) {
          best = head;
          best_cls = s.cls();
          // Taking the winner's head contact reads its class record (cold) first: ask
          // for each leader's while the scan goes on (a few a scan).
          __builtin_prefetch(&classes_[best_cls].waiting);
        }
      };
      // How far ahead to prefetch: enough misses in flight to cover memory latency.
      constexpr size_t kAhead = 24;
      for (size_t i = 0; i < std::min(n, kAhead); ++i) __builtin_prefetch(&heads[served[i].cls()]);
      size_t i = 0;
      // The heads are scattered over a large array: ask for a later one while comparing.
      for (; i + kAhead < n; ++i) {
        __builtin_prefetch(&heads[served[i + kAhead].cls()]);
        visit(i);
      }
      for (; i < n; ++i) visit(i);
    };
    if (all_room) {
      scan(std::false_type{});
    } else {
      scan(std::true_type{});
    }
    if (best.empty()) break;
    const uint32_t contact = classes_[best_cls].waiting.front().contact;
    RemoveWaiting(contact);
    MakeOffer(agent, contact);
  }
  // Then wait in the heap of every class it can still take a contact of (none when it
  // is full, as after an offer of voice work).
  if (any_room) {
    for (uint32_t i = 0; i < a.served.size(); ++i) {
      if (room[static_cast<int>(a.served[i].pool())]) JoinHeap(agent, i);
    }
  }
  a.indexed = true;
}

void Engine::Impl::JoinHeap(uint32_t agent, uint32_t served_index) {
  AgentRec& a = agents_[agent];
  ++a.heaps_joined;
  ACD_ASSERT(a.served_links[served_index].heap_pos == -1);
  RequirementClass& cls = classes_[a.served[served_index].cls()];
  AgentRankInput input;
  input.idle_since_us = a.idle_since_us;
  input.active_items = static_cast<int>(a.work.size());
  input.total_capacity = a.capacity[0] + a.capacity[1] + a.capacity[2];
  input.handled = a.handled;
  input.last_offer_ticket = a.last_offer_ticket;
  for (const Req& r : cls.alternatives.front()) input.skill_level_sum += LevelOf(a, r.skill);
  const AgentRank rank = queues_[cls.queue].strategy->Rank(input);
  heap::Push(cls.available, AgentEntry{rank, a.login_order, agent, served_index}, AgentLess,
             AgentMoved());
}

void Engine::Impl::CheckBestChoice(uint32_t agent, uint32_t contact) const {
  const AgentRec& a = agents_[agent];
  const ContactRec& c = contacts_[contact];
  for (uint32_t d = 0; d < contacts_.size(); ++d) {
    const ContactRec& other = contacts_[d];
    if (!other.in_use || d == contact || other.state != ContactState::kWaiting) continue;
    if (other.heap_pos < 0) continue;  // being moved by this very command
    if (!ContactBefore(KeyOf(other), other.seq, KeyOf(c), c.seq)) continue;
    const bool could_take = Eligible(a, classes_[other.cls]) && HasCapacity(a, other.channel);
    ACD_ASSERT(!could_take);  // a better-ranked waiting contact was passed over
  }
}

void Engine::Impl::MakeOffer(uint32_t agent, uint32_t contact) {
  AgentRec& a = agents_[agent];
  ContactRec& c = contacts_[contact];
  ACD_ASSERT(c.state == ContactState::kWaiting);
  ACD_ASSERT(c.heap_pos == -1);
  ACD_ASSERT(Routable(a));
  ACD_ASSERT(HasCapacity(a, c.channel));
  if (options_.paranoid) CheckBestChoice(agent, contact);
  Accrue(a);
  QueueRec& q = queues_[c.queue];
  c.state = ContactState::kOffered;
  c.agent = agent;
  c.offer_id = ++offer_seq_;
  ++q.in_offer;
  // Filled in place: a WorkItem built on the stack and copied in was 8-byte stores read
  // back as 16-byte loads, a store-forwarding stall (24% of MakeOffer's samples).
  WorkItem& item = a.work.emplace_back();
  item.contact = contact;
  item.offer_id = c.offer_id;
  item.phase = WorkPhase::kOffered;
  item.channel = c.channel;
  item.queue = c.queue;
  item.deadline_us = now_us_ + q.offer_timeout_us;
  ++a.used[static_cast<int>(PoolOf(c.channel))];
  a.last_offer_ticket = ++ticket_seq_;
  Schedule(item.deadline_us, TimerKind::kOfferTimeout, contact, c.offer_id);
  Event& e = ContactEvent(EventType::kContactOffered, c);
  e.agent_id = a.id;
  Emit(e);
  UpdateShown(agent);
}

void Engine::Impl::DeclineOffer(uint32_t agent, uint32_t contact, EventType type,
                                absl::string_view reason) {
  AgentRec& a = agents_[agent];
  ContactRec& c = contacts_[contact];
  QueueRec& q = queues_[c.queue];
  Accrue(a);
  RemoveWork(agent, c.offer_id);
  --q.in_offer;
  Event& e = ContactEvent(type, c);
  e.agent_id = a.id;
  e.reason = reason;
  Emit(e);
  if (q.config.rona_sets_not_ready) {
    SetPresence(agent, false, q.config.rona_reason);
  } else {
    RemoveFromHeaps(agent);  // refreshed below, once the contact has its place back
  }
  UpdateShown(agent);
  Requeue(contact);
  RefreshAgent(agent);
}

void Engine::Impl::WithdrawOffers(uint32_t agent, absl::string_view reason) {
  absl::InlinedVector<uint32_t, 4> offered;
  for (const WorkItem& w : agents_[agent].work) {
    if (w.phase == WorkPhase::kOffered) offered.push_back(w.contact);
  }
  for (uint32_t contact : offered) {
    ContactRec& c = contacts_[contact];
    Accrue(agents_[agent]);
    RemoveWork(agent, c.offer_id);
    --queues_[c.queue].in_offer;
    Event& e = ContactEvent(EventType::kContactRejected, c);
    e.agent_id = agents_[agent].id;
    e.reason = reason;
    Emit(e);
    Requeue(contact);
  }
}

WorkItem* Engine::Impl::FindWork(AgentRec& a, uint64_t offer_id) {
  return const_cast<WorkItem*>(FindWork(static_cast<const AgentRec&>(a), offer_id));
}

const WorkItem* Engine::Impl::FindWork(const AgentRec& a, uint64_t offer_id) {
  for (const WorkItem& w : a.work) {
    if (w.offer_id == offer_id) return &w;
  }
  return nullptr;
}

void Engine::Impl::RemoveWork(uint32_t agent, uint64_t offer_id) {
  AgentRec& a = agents_[agent];
  auto it = std::find_if(a.work.begin(), a.work.end(),
                         [offer_id](const WorkItem& w) { return w.offer_id == offer_id; });
  ACD_ASSERT(it != a.work.end());
  if (it->phase == WorkPhase::kOffered) CancelOfferTimer(it->contact);
  --a.used[static_cast<int>(PoolOf(it->channel))];
  ACD_ASSERT(a.used[static_cast<int>(PoolOf(it->channel))] >= 0);
  a.work.erase(it);
  if (a.work.empty()) a.idle_since_us = now_us_;
}

void Engine::Impl::EndConnection(uint32_t agent, uint64_t offer_id) {
  AgentRec& a = agents_[agent];
  WorkItem* item = FindWork(a, offer_id);
  ACD_ASSERT(item != nullptr);
  ACD_ASSERT(item->phase == WorkPhase::kConnected);
  const absl::Duration wrap_up = queues_[item->queue].config.wrap_up;
  if (wrap_up > absl::ZeroDuration()) {
    item->phase = WorkPhase::kWrapUp;
    item->contact = kNone;
    item->deadline_us = now_us_ + absl::ToInt64Microseconds(wrap_up);
    Schedule(item->deadline_us, TimerKind::kWrapUpEnd, agent, offer_id);
  } else {
    RecordHandled(*item);
    RemoveWork(agent, offer_id);
  }
}

void Engine::Impl::RecordHandled(const WorkItem& item) {
  if (item.queue == kNone) return;  // its queue was removed by a rules change
  QueueRec& q = queues_[item.queue];
  const int64_t handle_us = now_us_ - item.connected_us;
  ++q.total.handled;
  q.total.handle_time_total_us += handle_us;
  QueueCounters& w = q.window.At(now_us_);
  ++w.handled;
  w.handle_time_total_us += handle_us;
}

absl::Status Engine::Impl::Login(const LoginRequest& r) {
  Sync();
  const Limits& limits = config_.limits;
  if (!IsValidId(r.agent_id, limits.max_id_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent_id must be 1-", limits.max_id_bytes, " printable characters without spaces"));
  }
  auto existing = agent_index_.find(absl::string_view(r.agent_id));
  if (existing != agent_index_.end() && agents_[*existing].logged_in) {
    return absl::AlreadyExistsError(absl::StrCat("agent '", r.agent_id, "' is already logged in"));
  }
  if (existing == agent_index_.end() && agents_.size() >= static_cast<size_t>(limits.max_agents)) {
    return absl::ResourceExhaustedError(absl::StrCat("the engine holds its maximum of ",
                                                     limits.max_agents, " agents"));
  }
  if (r.skills.size() > static_cast<size_t>(limits.max_skills_per_agent)) {
    return absl::InvalidArgumentError(absl::StrCat("more than ", limits.max_skills_per_agent,
                                                   " skills"));
  }
  std::vector<Req> skills;
  for (const AgentSkill& s : r.skills) {
    auto it = skill_index_.find(s.skill);
    if (it == skill_index_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown skill '", s.skill.substr(0, 64), "'"));
    }
    if (s.level < kMinSkillLevel || s.level > kMaxSkillLevel) {
      return absl::InvalidArgumentError(absl::StrCat("skill '", s.skill, "' level ", s.level,
                                                     " is outside 1-10"));
    }
    if (std::any_of(skills.begin(), skills.end(), [&](const Req& q) { return q.skill == it->second; })) {
      return absl::InvalidArgumentError(absl::StrCat("skill '", s.skill, "' is listed twice"));
    }
    skills.push_back(Req{it->second, static_cast<uint8_t>(s.level)});
  }
  std::sort(skills.begin(), skills.end());
  std::array<int, kCapacityPoolCount> capacity{};
  std::array<bool, kCapacityPoolCount> seen{};
  if (r.capacities.empty()) capacity[static_cast<int>(CapacityPool::kVoice)] = 1;
  for (const ChannelCapacity& cc : r.capacities) {
    if (cc.channel == Channel::kCallback) {
      return absl::InvalidArgumentError("CALLBACK contacts use the VOICE capacity; give VOICE");
    }
    const int pool = static_cast<int>(PoolOf(cc.channel));
    if (seen[pool]) {
      return absl::InvalidArgumentError(absl::StrCat("capacity for ", ChannelName(cc.channel),
                                                     " is given twice"));
    }
    seen[pool] = true;
    const int max = cc.channel == Channel::kVoice ? 1 : limits.max_capacity_per_channel;
    if (cc.max < 0 || cc.max > max) {
      return absl::InvalidArgumentError(absl::StrCat("capacity for ", ChannelName(cc.channel),
                                                     " must be in [0, ", max, "]"));
    }
    capacity[pool] = cc.max;
  }
  if (capacity[0] + capacity[1] + capacity[2] == 0) {
    return absl::InvalidArgumentError("the agent has no capacity on any channel");
  }

  uint32_t agent;
  if (existing != agent_index_.end()) {
    agent = *existing;
  } else {
    agent = static_cast<uint32_t>(agents_.size());
    agents_.emplace_back().id = r.agent_id;
    agent_index_.insert(agent);  // after the id is in place: the index reads it
  }
  AgentRec& a = agents_[agent];
  ACD_ASSERT(a.work.empty());
  ACD_ASSERT(a.served.empty());
  a.logged_in = true;
  a.ready = false;
  ListHolder(agent, skills);
  a.reason = std::string(kReasonLogin);
  a.skills.assign(skills.begin(), skills.end());
  a.capacity = capacity;
  a.used = {};
  a.handled = 0;
  a.login_order = ++login_seq_;
  a.idle_since_us = now_us_;
  a.accrued_at_us = now_us_;
  a.work_us = 0;
  a.idle_us = 0;
  for (uint32_t cls = 0; cls < classes_.size(); ++cls) {
    if (classes_[cls].live && Eligible(a, classes_[cls])) AddServed(agent, cls);
  }
  UpdateShown(agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::Logout(absl::string_view agent_id) {
  Sync();
  absl::StatusOr<uint32_t> agent = FindLoggedInAgent(agent_id);
  if (!agent.ok()) return agent.status();
  AgentRec& a = agents_[*agent];
  const auto connected = std::count_if(a.work.begin(), a.work.end(), [](const WorkItem& w) {
    return w.phase == WorkPhase::kConnected;
  });
  if (connected > 0) {
    return absl::FailedPreconditionError(absl::StrCat("agent '", agent_id, "' has ", connected,
                                                      " connected contact(s); complete them first"));
  }
  SetPresence(*agent, false, kReasonLogin);
  WithdrawOffers(*agent, "AGENT_LOGGED_OUT");
  while (!a.work.empty()) {
    RecordHandled(a.work.back());
    RemoveWork(*agent, a.work.back().offer_id);
  }
  Accrue(a);
  ACD_ASSERT(a.heaps_joined == 0);  // not routable any more: in no heap
  while (!a.served.empty()) DropServed(*agent, static_cast<uint32_t>(a.served.size() - 1));
  a.logged_in = false;
  for (const Req& r : a.skills) {
    std::vector<SkillHolder>& holders = skill_agents_[r.skill];
    holders.erase(std::find_if(holders.begin(), holders.end(),
                               [&](const SkillHolder& h) { return h.agent == *agent; }));
  }
  a.reason.clear();
  UpdateShown(*agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::SetReady(absl::string_view agent_id) {
  Sync();
  absl::StatusOr<uint32_t> agent = FindLoggedInAgent(agent_id);
  if (!agent.ok()) return agent.status();
  if (agents_[*agent].ready) return absl::OkStatus();
  SetPresence(*agent, true, "");
  UpdateShown(*agent);
  RefreshAgent(*agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::SetNotReady(absl::string_view agent_id, absl::string_view reason) {
  Sync();
  absl::StatusOr<uint32_t> agent = FindLoggedInAgent(agent_id);
  if (!agent.ok()) return agent.status();
  if (absl::Status s = CheckReason(reason); !s.ok()) return s;
  AgentRec& a = agents_[*agent];
  if (!a.ready && a.reason == reason) return absl::OkStatus();
  SetPresence(*agent, false, reason);
  WithdrawOffers(*agent, "AGENT_NOT_READY");
  UpdateShown(*agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::Accept(absl::string_view agent_id, absl::string_view contact_id) {
  Sync();
  uint32_t agent, slot;
  if (absl::Status s = FindAgentAndContact(agent_id, contact_id, &agent, &slot); !s.ok()) {
    return s;
  }
  ContactRec& c = contacts_[slot];
  if (absl::Status s = CheckOfferedTo(c, agent, agent_id, contact_id); !s.ok()) return s;
  AgentRec& a = agents_[agent];
  Accrue(a);
  WorkItem* item = FindWork(a, c.offer_id);
  ACD_ASSERT(item != nullptr);
  CancelOfferTimer(slot);
  item->phase = WorkPhase::kConnected;
  item->deadline_us = kNever;
  item->connected_us = now_us_;
  c.state = ContactState::kConnected;
  c.ended_us = now_us_;
  QueueRec& q = queues_[c.queue];
  --q.in_offer;
  const int64_t waited_us = now_us_ - c.arrival_us;
  const bool within = waited_us <= q.service_level_threshold_us;
  for (QueueCounters* counters : {&q.total, &q.window.At(now_us_)}) {
    ++counters->answered;
    if (within) ++counters->answered_within_threshold;
    counters->answered_wait_total_us += waited_us;
  }
  Event& e = ContactEvent(EventType::kContactAccepted, c);
  e.agent_id = a.id;
  Emit(e);
  UpdateShown(agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::Reject(absl::string_view agent_id, absl::string_view contact_id) {
  Sync();
  uint32_t agent, slot;
  if (absl::Status s = FindAgentAndContact(agent_id, contact_id, &agent, &slot); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckOfferedTo(contacts_[slot], agent, agent_id, contact_id); !s.ok()) {
    return s;
  }
  DeclineOffer(agent, slot, EventType::kContactRejected, "REJECTED");
  return absl::OkStatus();
}

absl::Status Engine::Impl::Complete(absl::string_view agent_id, absl::string_view contact_id) {
  Sync();
  uint32_t agent, slot;
  if (absl::Status s = FindAgentAndContact(agent_id, contact_id, &agent, &slot); !s.ok()) {
    return s;
  }
  ContactRec& c = contacts_[slot];
  if (c.state != ContactState::kConnected || c.agent != agent) {
    return absl::FailedPreconditionError(absl::StrCat("contact '", contact_id,
                                                      "' is not connected to agent '", agent_id,
                                                      "' (it is ", ContactStateName(c.state), ")"));
  }
  AgentRec& a = agents_[agent];
  Accrue(a);
  ++a.handled;
  EndConnection(agent, c.offer_id);
  Event& e = ContactEvent(EventType::kContactCompleted, c);
  e.agent_id = a.id;
  FinishContact(slot, ContactState::kCompleted);
  Emit(e);
  UpdateShown(agent);
  RefreshAgent(agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::EndWrapUp(absl::string_view agent_id) {
  Sync();
  absl::StatusOr<uint32_t> agent = FindLoggedInAgent(agent_id);
  if (!agent.ok()) return agent.status();
  AgentRec& a = agents_[*agent];
  absl::InlinedVector<uint64_t, 4> wrapping;
  for (const WorkItem& w : a.work) {
    if (w.phase == WorkPhase::kWrapUp) wrapping.push_back(w.offer_id);
  }
  if (wrapping.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("agent '", agent_id, "' is not in wrap-up"));
  }
  Accrue(a);
  for (uint64_t offer_id : wrapping) {
    RecordHandled(*FindWork(a, offer_id));
    RemoveWork(*agent, offer_id);
  }
  UpdateShown(*agent);
  RefreshAgent(*agent);
  return absl::OkStatus();
}

absl::Status Engine::Impl::ForceState(absl::string_view agent_id, AgentState state,
                                      absl::string_view reason) {
  switch (state) {
    case AgentState::kReady:
      return SetReady(agent_id);
    case AgentState::kNotReady:
      return SetNotReady(agent_id, reason.empty() ? kReasonForced : reason);
    case AgentState::kLoggedOut:
      return Logout(agent_id);
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "a supervisor can force READY, NOT_READY or LOGGED_OUT, not ", AgentStateName(state)));
  }
}


// ============================================================================
// Rules changes
// ============================================================================

absl::Status Engine::Impl::ApplyConfig(EngineConfig next) {
  Sync();
  absl::StatusOr<Rules> built = BuildRules(std::move(next));
  if (!built.ok()) return built.status();
  Rules& rules = *built;

  // Where each old queue's contacts go: the queue of the same name, or the move target.
  std::vector<uint32_t> queue_map(queues_.size(), kNone);
  for (uint32_t i = 0; i < queues_.size(); ++i) {
    const std::string& name = queues_[i].config.name;
    auto same = rules.queue_index.find(name);
    if (same != rules.queue_index.end()) {
      queue_map[i] = same->second;
      continue;
    }
    for (const auto& [from, to] : rules.config.queue_moves) {
      if (from == name) queue_map[i] = rules.queue_index.at(to);
    }
  }
  // Check every live contact can be placed before changing anything.
  for (uint32_t slot = 0; slot < contacts_.size(); ++slot) {
    const ContactRec& c = contacts_[slot];
    if (!c.in_use || IsFinal(c.state)) continue;
    const std::string& old_queue = queues_[c.queue].config.name;
    if (queue_map[c.queue] == kNone) {
      return absl::FailedPreconditionError(absl::StrCat(
          "queue '", old_queue, "' still has contacts and the new rules neither keep it nor "
          "move them (add a queue move with moved_to)"));
    }
    const QueueRec& target = rules.queues[queue_map[c.queue]];
    if (!target.takes[static_cast<int>(c.channel)]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "queue '", target.config.name, "' would not take the ", ChannelName(c.channel),
          " contacts of queue '", old_queue, "'"));
    }
    for (const Req& r : c.own) {
      if (!rules.skill_index.contains(config_.skills[r.skill])) {
        return absl::FailedPreconditionError(absl::StrCat(
            "skill '", config_.skills[r.skill], "' is required by waiting contacts of queue '",
            old_queue, "' but the new rules remove it"));
      }
    }
    if (c.language != kNone && !rules.skill_index.contains(config_.skills[c.language])) {
      return absl::FailedPreconditionError(absl::StrCat(
          "language '", config_.skills[c.language], "' is required by waiting contacts of queue '",
          old_queue, "' but the new rules remove the skill"));
    }
  }

  // Commit. Statistics carry over by queue name.
  for (uint32_t i = 0; i < queues_.size(); ++i) {
    auto same = rules.queue_index.find(queues_[i].config.name);
    if (same == rules.queue_index.end()) continue;
    QueueRec& to = rules.queues[same->second];
    to.total = queues_[i].total;
    if (rules.config.stats_window == config_.stats_window) to.window = queues_[i].window;
  }
  auto remap_skill = [&](uint32_t old) -> uint32_t {
    auto it = rules.skill_index.find(config_.skills[old]);
    return it == rules.skill_index.end() ? kNone : it->second;
  };
  for (AgentRec& a : agents_) {
    std::vector<Req> skills;
    for (const Req& r : a.skills) {
      const uint32_t skill = remap_skill(r.skill);
      if (skill != kNone) skills.push_back(Req{static_cast<uint16_t>(skill), r.level});
    }
    std::sort(skills.begin(), skills.end());
    a.skills.assign(skills.begin(), skills.end());
    a.served.clear();  // the classes are rebuilt below
    a.served_links.clear();
    a.heaps_joined = 0;
    for (WorkItem& w : a.work) w.queue = queue_map[w.queue];
  }
  // Ended contacts of a queue that is gone are forgotten; the others keep their records,
  // oldest first, up to the new max_finished_contacts_retained (the oldest beyond it are
  // forgotten too, as if they had ended under the new limit).
  std::vector<Finished> retained;
  for (size_t k = 0; k < finished_.size(); ++k) {
    const Finished& f = finished_[(finished_next_ + k) % finished_.size()];
    ContactRec& c = contacts_[f.slot];
    if (queue_map[c.queue] == kNone) {
      Forget(f);
    } else {
      c.queue = queue_map[c.queue];
      retained.push_back(f);
    }
  }
  const size_t keep = static_cast<size_t>(rules.config.limits.max_finished_contacts_retained);
  const size_t surplus = retained.size() > keep ? retained.size() - keep : 0;
  for (size_t k = 0; k < surplus; ++k) Forget(retained[k]);
  finished_.assign(retained.begin() + static_cast<std::ptrdiff_t>(surplus), retained.end());
  finished_next_ = 0;
  std::vector<uint32_t> live;
  for (uint32_t slot = 0; slot < contacts_.size(); ++slot) {
    ContactRec& c = contacts_[slot];
    if (!c.in_use || IsFinal(c.state)) continue;
    ReqSet own;
    for (const Req& r : c.own) MergeReq(own, Req{static_cast<uint16_t>(remap_skill(r.skill)), r.level});
    c.own = own;
    if (c.language != kNone) c.language = remap_skill(c.language);
    c.heap_pos = -1;
    live.push_back(slot);
  }
  const std::vector<uint32_t> old_queue_of = [&] {
    std::vector<uint32_t> out;
    for (uint32_t slot : live) out.push_back(contacts_[slot].queue);
    return out;
  }();
  std::vector<std::string> old_names;
  for (const QueueRec& q : queues_) old_names.push_back(q.config.name);
  classes_.clear();
  heads_.clear();
  class_index_.clear();
  scratch_looked_up_ = false;
  free_classes_.clear();
  live_classes_ = 0;
  idle_live_classes_ = 0;
  idle_classes_.clear();
  Install(std::move(rules));

  // Live contacts take their new queue's rules: key, expansion step and timers.
  for (size_t k = 0; k < live.size(); ++k) {
    ContactRec& c = contacts_[live[k]];
    const uint32_t from = old_queue_of[k];
    c.queue = queue_map[from];
    QueueRec& q = queues_[c.queue];
    if (c.state == ContactState::kConnected) continue;
    const bool moved = q.config.name != old_names[from];
    if (moved) {
      c.queue_entry_us = now_us_;
      Count(q, &QueueCounters::offered);
    }
    c.queue_epoch = ++epoch_seq_;
    c.step = 0;
    const int64_t in_queue_us = now_us_ - c.queue_entry_us;
    while (c.step < q.steps.size() && q.steps[c.step].after_us <= in_queue_us) ++c.step;
    c.preferred_active = q.WaitsForPreferred(c.preferred()) && in_queue_us < q.preferred_wait_us;
    c.overflow_due = false;
    if (q.max_wait_us >= 0) {
      Schedule(std::max(now_us_, c.queue_entry_us + q.max_wait_us), TimerKind::kMaxWait,
               live[k], c.queue_epoch);
    }
    ScheduleNextExpansion(c, live[k]);
    if (c.preferred_active) {
      Schedule(c.queue_entry_us + q.preferred_wait_us, TimerKind::kPreferredFallback, live[k],
               c.queue_epoch);
    }
  }
  // Agents learn the classes the new rules give them as contacts re-intern them; each
  // agent's class list must be complete before any routing, so intern first, route after.
  for (uint32_t slot : live) {
    ContactRec& c = contacts_[slot];
    if (c.state != ContactState::kConnected) c.cls = ClassFor(c);
  }
  for (QueueRec& q : queues_) {
    q.waiting = 0;
    q.in_offer = 0;
  }
  std::vector<uint32_t> waiting;
  for (uint32_t slot : live) {
    ContactRec& c = contacts_[slot];
    if (c.state == ContactState::kOffered) ++queues_[c.queue].in_offer;
    if (c.state == ContactState::kWaiting) waiting.push_back(slot);
  }
  std::sort(waiting.begin(), waiting.end(), [this](uint32_t x, uint32_t y) {
    return ContactBefore(KeyOf(contacts_[x]), contacts_[x].seq, KeyOf(contacts_[y]),
                         contacts_[y].seq);
  });
  Event& e = NewEvent(EventType::kRulesApplied);
  Emit(e);
  // Free agents joined the heaps of the classes as they were interned; now each waiting
  // contact, best first, meets the best free agent of its class, as a new arrival would.
  for (uint32_t slot : waiting) Route(slot);
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    if (agents_[a].logged_in) RefreshAgent(a);  // fresh ranks under the new strategies
  }
  return absl::OkStatus();
}

// ============================================================================
// Events
// ============================================================================

Event& Engine::Impl::NewEvent(EventType type) {
  ACD_ASSERT(!event_open_);  // the previous event was emitted
  event_open_ = true;
  Event& e = event_;
  e.sequence = 0;
  e.time_us = 0;
  e.type = type;
  e.contact_id = {};
  e.agent_id = {};
  e.queue = {};
  e.from_queue = {};
  e.reason = {};
  e.channel = Channel::kVoice;
  e.agent_state = AgentState::kLoggedOut;
  e.priority = 0;
  e.step = 0;
  e.waited_us = 0;
  return e;
}

Event& Engine::Impl::ContactEvent(EventType type, const ContactRec& c) {
  Event& e = NewEvent(type);
  e.contact_id = c.id;
  e.queue = queues_[c.queue].config.name;
  e.channel = c.channel;
  e.priority = c.priority;
  e.step = c.step;
  e.waited_us = now_us_ - c.arrival_us;
  return e;
}

void Engine::Impl::Emit(Event& e) {
  ACD_ASSERT(&e == &event_);
  ACD_ASSERT(event_open_);
  event_open_ = false;
  e.sequence = ++sequence_;
  e.time_us = now_us_;
  if (options_.sink != nullptr) options_.sink->OnEvent(e);
}

// ============================================================================
// Queries
// ============================================================================

absl::StatusOr<ContactStatus> Engine::Impl::GetContact(absl::string_view contact_id) const {
  absl::StatusOr<uint32_t> slot = FindContact(contact_id);
  if (!slot.ok()) return slot.status();
  const ContactRec& c = contacts_[*slot];
  const QueueRec& q = queues_[c.queue];
  ContactStatus out;
  out.contact_id = c.id;
  out.queue = q.config.name;
  out.state = c.state;
  out.channel = c.channel;
  out.priority = c.priority;
  out.expansion_step = c.step;
  if (c.extras) out.attributes = c.extras->attributes;
  const bool in_queue = c.state == ContactState::kWaiting || c.state == ContactState::kOffered;
  out.waited = absl::Microseconds((in_queue ? QueryNowUs() : c.ended_us) - c.arrival_us);
  if (c.agent != kNone) out.agent_id = agents_[c.agent].id;
  if (c.state == ContactState::kWaiting) {
    if (!q.ranks) q.ranks = std::make_unique<RankIndex>(WaitingRanks(q));
    out.position = static_cast<int>(q.ranks->CountBefore(ContactRank(KeyOf(c), c.seq))) + 1;
    const int staffed = classes_[c.cls].staffed;
    if (staffed > 0) {
      const QueueCounters window = q.window.Sum(QueryNowUs());
      const absl::Duration aht = window.handled > 0 ? window.aht() : q.config.default_handle_time;
      out.ewt = aht * out.position / staffed;
    }
    out.callback_offered = c.channel == Channel::kVoice &&
                           q.takes[static_cast<int>(Channel::kCallback)] &&
                           q.config.callback_offer_ewt > absl::ZeroDuration() &&
                           (!out.ewt.has_value() || *out.ewt > q.config.callback_offer_ewt);
  }
  return out;
}

absl::StatusOr<AgentStatus> Engine::Impl::GetAgent(absl::string_view agent_id) const {
  auto it = agent_index_.find(agent_id);
  if (it == agent_index_.end()) {
    return absl::NotFoundError(absl::StrCat("agent '", agent_id, "' is not known"));
  }
  const AgentRec& a = agents_[*it];
  AgentStatus out;
  out.agent_id = a.id;
  out.state = a.shown;
  out.reason = a.shown_reason;
  out.state_since = absl::FromUnixMicros(a.state_since_us);
  for (const Req& r : a.skills) out.skills.push_back(AgentSkill{config_.skills[r.skill], r.level});
  for (Channel ch : {Channel::kVoice, Channel::kChat, Channel::kEmail}) {
    const int cap = a.capacity[static_cast<int>(PoolOf(ch))];
    if (cap > 0) out.capacities.push_back(ChannelCapacity{ch, cap});
  }
  for (const WorkItem& w : a.work) {
    WorkItemStatus ws;
    if (w.contact != kNone) ws.contact_id = contacts_[w.contact].id;
    if (w.queue != kNone) ws.queue = queues_[w.queue].config.name;
    ws.channel = w.channel;
    ws.phase = w.phase;
    if (w.deadline_us != kNever) ws.deadline = absl::FromUnixMicros(w.deadline_us);
    out.work.push_back(std::move(ws));
  }
  out.handled = a.handled;
  // Occupancy including the period since the last accrual.
  int64_t work_us = a.work_us;
  int64_t idle_us = a.idle_us;
  AccrueInto(a, QueryNowUs(), &work_us, &idle_us);
  out.occupancy = work_us + idle_us > 0 ? static_cast<double>(work_us) / (work_us + idle_us) : 0;
  return out;
}

EngineSnapshot Engine::Impl::Snapshot() const {
  EngineSnapshot snap;
  snap.sequence = sequence_;
  const int64_t now_us = QueryNowUs();
  snap.time = absl::FromUnixMicros(now_us);
  std::vector<uint32_t> logged_in;
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    if (agents_[a].logged_in) logged_in.push_back(a);
  }
  std::sort(logged_in.begin(), logged_in.end(), [this](uint32_t x, uint32_t y) {
    return agents_[x].login_order < agents_[y].login_order;
  });
  for (const QueueRec& q : queues_) {
    QueueStatus qs;
    qs.queue = q.config.name;
    qs.waiting = q.waiting;
    qs.in_offer = q.in_offer;
    qs.window = q.window.Sum(now_us);
    qs.total = q.total;
    qs.service_level_threshold = q.config.service_level_threshold;
    qs.service_level_target = q.config.service_level_target;
    qs.closed = !IsOpen(q);
    int64_t oldest = now_us;
    for (uint32_t cls : q.classes) {
      classes_[cls].waiting.ForEach([&](const ContactEntry& e) {
        oldest = std::min(oldest, contacts_[e.contact].arrival_us);
      });
    }
    qs.longest_wait = absl::Microseconds(now_us - oldest);
    for (uint32_t a : logged_in) {
      const AgentRec& agent = agents_[a];
      bool serves = false;
      if (MeetsAll(agent, q.requirements)) {
        for (Channel ch : q.config.channels) {
          if (agent.capacity[static_cast<int>(PoolOf(ch))] > 0) serves = true;
        }
      }
      if (serves) ++qs.agents_by_state[static_cast<int>(agent.shown)];
    }
    snap.queues.push_back(std::move(qs));
  }
  for (uint32_t a : logged_in) {
    absl::StatusOr<AgentStatus> status = GetAgent(agents_[a].id);
    ACD_ASSERT(status.ok());
    ++snap.agents_by_state[static_cast<int>(status->state)];
    snap.agents.push_back(std::move(*status));
  }
  return snap;
}

// ============================================================================
// Invariants (brute force)
// ============================================================================

void Engine::Impl::CheckInvariants() const {
  // A queue's recent arrivals' classes are live, of that queue and with one alternative
  // (an arrival's step-0 class).
  for (uint32_t qi = 0; qi < queues_.size(); ++qi) {
    queues_[qi].recent_classes.ForEach([&](uint32_t id) {
      const RequirementClass& cls = classes_[id];
      ACD_ASSERT(cls.live);
      ACD_ASSERT(cls.queue == qi);
      ACD_ASSERT(cls.alternatives.size() == 1);
    });
  }
  // Contacts and work items agree, one agent per contact.
  std::vector<int> holders(contacts_.size(), 0);
  for (uint32_t ai = 0; ai < agents_.size(); ++ai) {
    const AgentRec& a = agents_[ai];
    std::array<int, kCapacityPoolCount> used{};
    for (const WorkItem& w : a.work) {
      ACD_ASSERT(a.logged_in);
      ++used[static_cast<int>(PoolOf(w.channel))];
      if (w.phase == WorkPhase::kWrapUp) {
        ACD_ASSERT(w.contact == kNone);
        ACD_ASSERT(w.deadline_us > now_us_);
        continue;
      }
      ACD_ASSERT(w.contact < contacts_.size());
      const ContactRec& c = contacts_[w.contact];
      ++holders[w.contact];
      ACD_ASSERT(c.in_use);
      ACD_ASSERT(c.agent == ai);
      ACD_ASSERT(c.offer_id == w.offer_id);
      if (w.phase == WorkPhase::kOffered) {
        ACD_ASSERT(c.state == ContactState::kOffered);
        ACD_ASSERT(w.deadline_us > now_us_);  // no offer outlives its timeout
      } else {
        ACD_ASSERT(c.state == ContactState::kConnected);
      }
    }
    ACD_ASSERT(used == a.used);
    for (int p = 0; p < kCapacityPoolCount; ++p) ACD_ASSERT(a.used[p] <= a.capacity[p]);
    if (a.used[static_cast<int>(CapacityPool::kVoice)] > 0) ACD_ASSERT(a.work.size() == 1);
    // Heap membership is exact: routable, serving and with room.
    if (Routable(a)) ACD_ASSERT(a.indexed);
    if (a.shown != AgentState::kNotReady) ACD_ASSERT(a.shown_reason.empty());
    ACD_ASSERT(a.served_links.size() == a.served.size());
    ACD_ASSERT(a.heaps_joined ==
               static_cast<uint32_t>(std::count_if(a.served_links.begin(),
                                                   a.served_links.end(),
                                                   [](ServedLinks l) { return l.heap_pos >= 0; })));
    for (uint32_t i = 0; i < a.served.size(); ++i) {
      const RequirementClass& cls = classes_[a.served[i].cls()];
      ACD_ASSERT(a.served[i].pool() == PoolOf(cls.channel));
      ACD_ASSERT(Eligible(a, cls));
      ACD_ASSERT(a.served_links[i].member_pos < cls.members.size());
      ACD_ASSERT(cls.members[a.served_links[i].member_pos].agent == ai);
      ACD_ASSERT(cls.members[a.served_links[i].member_pos].served_index == i);
      const bool should = Routable(a) && HasCapacity(a, cls.channel);
      const int32_t pos = a.served_links[i].heap_pos;
      ACD_ASSERT(should == (pos >= 0));
      if (pos >= 0) {
        ACD_ASSERT(static_cast<size_t>(pos) < cls.available.size());
        ACD_ASSERT(cls.available[pos].agent == ai);
        ACD_ASSERT(cls.available[pos].served_index == i);
      }
    }
  }
  // The skill index lists exactly the logged-in agents with each skill.
  size_t indexed_skills = 0;
  for (const std::vector<SkillHolder>& holders : skill_agents_) indexed_skills += holders.size();
  size_t held_skills = 0;
  for (uint32_t ai = 0; ai < agents_.size(); ++ai) {
    if (!agents_[ai].logged_in) continue;
    uint64_t bits = 0;
    for (const Req& r : agents_[ai].skills) {
      ++held_skills;
      bits |= SkillBits(r.skill);
      const std::vector<SkillHolder>& holders = skill_agents_[r.skill];
      ACD_ASSERT(std::any_of(holders.begin(), holders.end(), [&](const SkillHolder& h) {
        return h.agent == ai && h.level == r.level;
      }));
    }
    for (const Req& r : agents_[ai].skills) {
      for (const SkillHolder& h : skill_agents_[r.skill]) {
        if (h.agent == ai) ACD_ASSERT(h.skill_bits == bits);
      }
    }
  }
  ACD_ASSERT(indexed_skills == held_skills);
  // Every class an agent is eligible for is in its served list.
  for (uint32_t ai = 0; ai < agents_.size(); ++ai) {
    const AgentRec& a = agents_[ai];
    size_t eligible = 0;
    for (size_t ci = 0; ci < classes_.size(); ++ci) {
      if (Eligible(a, classes_[ci])) ++eligible;
    }
    ACD_ASSERT(eligible == a.served.size());
  }
  // Classes: live and retired, idle bookkeeping, staffed counts, heads and heap order.
  ACD_ASSERT(heads_.size() == classes_.size());
  size_t live_classes = 0, idle_classes = 0, listed = 0;
  for (size_t ci = 0; ci < classes_.size(); ++ci) {
    const RequirementClass& cls = classes_[ci];
    const uint32_t id = static_cast<uint32_t>(ci);
    if (cls.idle_listed) ++listed;
    if (!cls.live) {
      ACD_ASSERT(cls.alternatives.empty());
      ACD_ASSERT(cls.waiting.empty());
      ACD_ASSERT(cls.available.empty());
      ACD_ASSERT(cls.members.empty());
      ACD_ASSERT(!cls.idle_listed);
      ACD_ASSERT(std::count(free_classes_.begin(), free_classes_.end(), id) == 1);
      continue;
    }
    ++live_classes;
    ACD_ASSERT(!cls.alternatives.empty());
    ACD_ASSERT(class_index_.contains(DescOf(cls)));
    ACD_ASSERT(*class_index_.find(DescOf(cls)) == id);
    ACD_ASSERT(cls.queue_pos < queues_[cls.queue].classes.size());
    ACD_ASSERT(queues_[cls.queue].classes[cls.queue_pos] == id);
    if (cls.waiting.empty()) {
      ++idle_classes;
      ACD_ASSERT(cls.idle_listed);  // every idle class waits for retirement
    }
    ACD_ASSERT(heads_[ci].empty() == cls.waiting.empty());
    if (!cls.waiting.empty()) {
      ACD_ASSERT(heads_[ci].rank == RankOf(cls.waiting.front()));
    }
    int staffed = 0;
    size_t members = 0;
    for (const AgentRec& a : agents_) {
      if (a.logged_in && a.ready && Eligible(a, cls)) ++staffed;
      if (a.logged_in && Eligible(a, cls)) ++members;
    }
    ACD_ASSERT(staffed == cls.staffed);
    ACD_ASSERT(members == cls.members.size());  // and each points back (checked per agent)
    ACD_ASSERT(cls.waiting.Valid());
    ACD_ASSERT(heap::IsHeap(cls.available, AgentLess));
  }
  ACD_ASSERT(live_classes == live_classes_);
  ACD_ASSERT(idle_classes == idle_live_classes_);
  ACD_ASSERT(live_classes + free_classes_.size() == classes_.size());
  ACD_ASSERT(class_index_.size() == live_classes_);
  ACD_ASSERT(listed == idle_classes_.size());
  size_t queue_classes = 0;
  for (const QueueRec& q : queues_) queue_classes += q.classes.size();
  ACD_ASSERT(queue_classes == live_classes_);
  // Contacts: each in exactly one state, per-queue counts add up, work is conserved.
  std::vector<int> waiting(queues_.size(), 0);
  std::vector<int> in_offer(queues_.size(), 0);
  int live = 0;
  size_t ended = 0;
  for (uint32_t ci = 0; ci < contacts_.size(); ++ci) {
    const ContactRec& c = contacts_[ci];
    if (!c.in_use) continue;
    auto indexed = contact_index_.find(absl::string_view(c.id));
    ACD_ASSERT(indexed != contact_index_.end());
    ACD_ASSERT(*indexed == ci);
    switch (c.state) {
      case ContactState::kWaiting: {
        ++live;
        ++waiting[c.queue];
        ACD_ASSERT(holders[ci] == 0);
        ACD_ASSERT(c.heap_pos >= 0);
        const RequirementClass& cls = classes_[c.cls];
        ACD_ASSERT(cls.live);
        ACD_ASSERT(cls.waiting.at(c.heap_pos).contact == ci);
        ACD_ASSERT(cls.queue == c.queue);
        ACD_ASSERT(cls.channel == c.channel);
        for (const AgentRec& a : agents_) {
          // Work conservation, by brute force over every agent.
          ACD_ASSERT(!(Routable(a) && Eligible(a, cls) && HasCapacity(a, c.channel)));
        }
        break;
      }
      case ContactState::kOffered:
        ++live;
        ++in_offer[c.queue];
        ACD_ASSERT(holders[ci] == 1);
        ACD_ASSERT(c.heap_pos == -1);
        ACD_ASSERT(c.offer_timer >= 0);
        ACD_ASSERT(static_cast<size_t>(c.offer_timer) < timers_.size());
        ACD_ASSERT(timers_[c.offer_timer].kind == TimerKind::kOfferTimeout);
        ACD_ASSERT(timers_[c.offer_timer].slot == ci);
        ACD_ASSERT(timers_[c.offer_timer].token == c.offer_id);
        break;
      case ContactState::kConnected:
        ++live;
        ACD_ASSERT(holders[ci] == 1);
        ACD_ASSERT(c.heap_pos == -1);
        break;
      case ContactState::kCompleted:
      case ContactState::kAbandoned:
      case ContactState::kOverflowed:
        ++ended;
        ACD_ASSERT(holders[ci] == 0);
        ACD_ASSERT(c.heap_pos == -1);
        ACD_ASSERT(c.agent == kNone);
        break;
    }
  }
  ACD_ASSERT(live == live_contacts_);
  // Ended contacts: exactly those in the retained ring, within its limit, each under the
  // hash its id has.
  ACD_ASSERT(finished_.size() <=
             static_cast<size_t>(config_.limits.max_finished_contacts_retained));
  ACD_ASSERT(finished_next_ < std::max<size_t>(finished_.size(), 1));
  ACD_ASSERT(ended == finished_.size());
  for (const Finished& f : finished_) {
    const ContactRec& c = contacts_[f.slot];
    ACD_ASSERT(c.in_use);
    ACD_ASSERT(IsFinal(c.state));
    ACD_ASSERT(f.hash == contact_index_.hash_function()(absl::string_view(c.id)));
  }
  // Timers: heap order; an offer timeout exists exactly while its offer is pending.
  ACD_ASSERT(heap::IsHeap(timers_, TimerBefore));
  for (size_t i = 0; i < timers_.size(); ++i) {
    if (timers_[i].kind != TimerKind::kOfferTimeout) continue;
    ACD_ASSERT(contacts_[timers_[i].slot].offer_timer == static_cast<int32_t>(i));
  }
  for (size_t qi = 0; qi < queues_.size(); ++qi) {
    const QueueRec& q = queues_[qi];
    ACD_ASSERT(q.waiting == waiting[qi]);
    ACD_ASSERT(q.in_offer == in_offer[qi]);
    if (q.ranks) {  // exactly the ranks in the queue's waiting sets
      q.ranks->CheckInvariants();
      std::vector<RankIndex::Rank> indexed;
      q.ranks->ForEach([&](RankIndex::Rank r) { indexed.push_back(r); });
      ACD_ASSERT(indexed == WaitingRanks(q));
    }
    const QueueCounters& t = q.total;
    ACD_ASSERT(t.offered == t.answered + t.abandoned + t.overflowed + t.transferred_out +
                                q.waiting + q.in_offer);
  }
}

// ============================================================================
// Engine: the public face
// ============================================================================

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineConfig config, const Clock& clock,
                                                       EngineOptions options) {
  auto impl = std::make_unique<Impl>(std::move(config), clock, options);
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

absl::Status Engine::Enqueue(const EnqueueRequest& r) { return impl_->Enqueue(r); }
absl::Status Engine::Cancel(absl::string_view id, absl::string_view reason) {
  return impl_->Cancel(id, reason);
}
absl::Status Engine::ChangePriority(absl::string_view id, int priority) {
  return impl_->ChangePriority(id, priority);
}
absl::Status Engine::Transfer(absl::string_view id, absl::string_view queue) {
  return impl_->Transfer(id, queue);
}
absl::Status Engine::RequestCallback(absl::string_view id) { return impl_->RequestCallback(id); }
absl::Status Engine::Escalate(absl::string_view id) { return impl_->Escalate(id); }
absl::Status Engine::ApplyConfig(EngineConfig config) {
  return impl_->ApplyConfig(std::move(config));
}
absl::Status Engine::Login(const LoginRequest& r) { return impl_->Login(r); }
absl::Status Engine::Logout(absl::string_view id) { return impl_->Logout(id); }
absl::Status Engine::SetReady(absl::string_view id) { return impl_->SetReady(id); }
absl::Status Engine::SetNotReady(absl::string_view id, absl::string_view reason) {
  return impl_->SetNotReady(id, reason);
}
absl::Status Engine::Accept(absl::string_view agent, absl::string_view contact) {
  return impl_->Accept(agent, contact);
}
absl::Status Engine::Reject(absl::string_view agent, absl::string_view contact) {
  return impl_->Reject(agent, contact);
}
absl::Status Engine::Complete(absl::string_view agent, absl::string_view contact) {
  return impl_->Complete(agent, contact);
}
absl::Status Engine::EndWrapUp(absl::string_view agent) { return impl_->EndWrapUp(agent); }
absl::Status Engine::ForceState(absl::string_view agent, AgentState state, absl::string_view reason) {
  return impl_->ForceState(agent, state, reason);
}
void Engine::Advance() { impl_->Advance(); }
std::optional<absl::Time> Engine::NextTimer() const { return impl_->NextTimer(); }
absl::StatusOr<ContactStatus> Engine::GetContact(absl::string_view id) const {
  return impl_->GetContact(id);
}
absl::StatusOr<AgentStatus> Engine::GetAgent(absl::string_view id) const {
  return impl_->GetAgent(id);
}
EngineSnapshot Engine::Snapshot() const { return impl_->Snapshot(); }
uint64_t Engine::last_sequence() const { return impl_->last_sequence(); }
absl::Time Engine::now() const { return impl_->now(); }
const EngineConfig& Engine::config() const { return impl_->config(); }
void Engine::CheckInvariants() const { impl_->CheckInvariants(); }

}  // namespace acd::core
