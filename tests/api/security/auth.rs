//! ASVS V2, V3, V4, V5 and V7: sign-in, sessions, staff MFA, redirects, input and the client address.
