#pragma once

// Errors at the engine boundary are values, never exceptions.

#include <QString>

#include <optional>
#include <utility>

namespace keepflow {

/// The outcome of an operation that returns nothing: ok, or a message saying what went wrong
/// and where. Cheap to copy.
class Status {
public:
    Status() = default;
    static Status ok() { return {}; }
    static Status error(QString message) { return Status(std::move(message)); }

    bool isOk() const { return !m_failed; }
    explicit operator bool() const { return isOk(); }
    const QString &message() const { return m_message; }

private:
    explicit Status(QString message)
        : m_message(std::move(message))
        , m_failed(true) {}
    QString m_message;
    bool m_failed = false;
};

/// A value or the Status explaining why there is none.
template <typename T> class Result {
public:
    Result(T value)
        : m_value(std::move(value)) {}
    Result(Status status)
        : m_status(std::move(status)) {}

    bool isOk() const { return m_value.has_value(); }
    explicit operator bool() const { return isOk(); }
    const Status &status() const { return m_status; }
    const QString &error() const { return m_status.message(); }

    T &value() { return *m_value; }
    const T &value() const { return *m_value; }
    T &operator*() { return *m_value; }
    const T &operator*() const { return *m_value; }
    T *operator->() { return &*m_value; }
    const T *operator->() const { return &*m_value; }

private:
    std::optional<T> m_value;
    Status m_status;
};

} // namespace keepflow
