//! How domain enums are stored: `OrderStatus` as the `order_status` enum, `EventKind` as text.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::{EventKind, OrderStatus};

macro_rules! stored_by_name {
    ($ty:ty, $type_info:expr, $compatible:expr) => {
        impl Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                $type_info
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                $compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'_, Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&str as Decode<'r, Postgres>>::decode(value)?.parse::<$ty>()?)
            }
        }
    };
}

stored_by_name!(OrderStatus, PgTypeInfo::with_name("order_status"), |ty: &PgTypeInfo| *ty
    == PgTypeInfo::with_name("order_status")
    || <String as Type<Postgres>>::compatible(ty));
stored_by_name!(EventKind, <String as Type<Postgres>>::type_info(), <String as Type<Postgres>>::compatible);
stored_by_name!(
    crate::domain::webhook::KeyRole,
    <String as Type<Postgres>>::type_info(),
    <String as Type<Postgres>>::compatible
);
stored_by_name!(
    crate::domain::webhook::EventType,
    <String as Type<Postgres>>::type_info(),
    <String as Type<Postgres>>::compatible
);
