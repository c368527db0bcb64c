#pragma once
/// @file
/// The fixed signature of an app's callable: return type and parameter types.

#include <tuple>
#include <type_traits>

namespace parsl::detail {

template <class R, class... P>
struct signature {
  using result = R;
  using params = std::tuple<P...>;
  static constexpr std::size_t arity = sizeof...(P);
};

template <class F>
struct callable_traits;
template <class R, class... P>
struct callable_traits<R (*)(P...)> : signature<R, P...> {};
template <class R, class... P>
struct callable_traits<R (*)(P...) noexcept> : signature<R, P...> {};
template <class C, class R, class... P>
struct callable_traits<R (C::*)(P...) const> : signature<R, P...> {};
template <class C, class R, class... P>
struct callable_traits<R (C::*)(P...) const noexcept> : signature<R, P...> {};
template <class C, class R, class... P>
struct callable_traits<R (C::*)(P...)> : signature<R, P...> {};
template <class C, class R, class... P>
struct callable_traits<R (C::*)(P...) noexcept> : signature<R, P...> {};

/// A callable with exactly one call signature: a function, a function pointer, or a
/// lambda / function object whose operator() is neither a template nor overloaded.
template <class F>
concept FixedSignature =
    std::is_function_v<std::remove_pointer_t<std::decay_t<F>>> || requires { &std::decay_t<F>::operator(); };

template <class F>
struct app_signature : callable_traits<decltype(&F::operator())> {};
template <class R, class... P>
struct app_signature<R (*)(P...)> : signature<R, P...> {};
template <class R, class... P>
struct app_signature<R (*)(P...) noexcept> : signature<R, P...> {};

/// Parameters are taken by value or by const reference: an app must not change its caller's
/// values, and a retry must see the same arguments.
template <class P>
inline constexpr bool valid_parameter_v =
    !std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>;

}  // namespace parsl::detail
