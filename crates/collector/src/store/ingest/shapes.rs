//! The text of a batch's statements, built once per shape and reused.
//!
//! sea-query builds a statement's text and its values together, walking the whole
//! statement (and cloning every value) each time. For a batch's multi-row inserts and
//! `IN` lists that walk was about a tenth of the SQLite writer thread's CPU
//! (BENCHMARKS.md, "Statement texts kept"), yet the text depends only on the backend
//! and the statement's shape: how many rows, how long each list. So sea-query still
//! builds each statement, but once per shape; after that only the batch's values are
//! new.
//!
//! Safe by construction: the first build of a shape is checked to start its values with
//! exactly the batch's, in order (what a later batch of that shape supplies). A shape
//! whose build does not is never kept, and is built every time, as before.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::sea_query::{InsertStatement, Query, Value};
use sea_orm::{DbBackend, DbErr, EntityTrait, Statement, StatementBuilder};

/// Shapes kept at most, over every statement and backend: a text is a few KiB at the
/// largest batch, so the cache stays under a few MiB. Past it, new shapes are built
/// each time (batches come in a few sizes; the cache fills in the first minutes).
const MAX_SHAPES: usize = 1024;

/// What decides a statement's text: which statement, the backend, and the counts of its
/// variable parts (rows; or the lengths of its `IN` lists, in the order they appear).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    statement: &'static str,
    postgres: bool,
    counts: [usize; 2],
}

/// A shape's text, and the values it takes after the batch's (constants of the
/// statement itself, such as a conflict clause's).
struct Text {
    sql: String,
    tail: Vec<Value>,
}

static TEXTS: LazyLock<Mutex<HashMap<Shape, Arc<Text>>>> = LazyLock::new(Mutex::default);

/// The statement `build` makes from `values` (the batch's values, in the order the text
/// uses them, followed in the text only by values that are the same for every batch of
/// this `statement`): its text from the first build of this shape, its values
/// `values`.
///
/// `statement` names the statement (one name, one builder); `counts` are what decide
/// its text beyond the backend (see [`Shape`]).
pub(super) fn statement<S: StatementBuilder>(
    backend: DbBackend,
    statement: &'static str,
    counts: [usize; 2],
    values: Vec<Value>,
    build: impl FnOnce(&[Value]) -> Result<S, DbErr>,
) -> Result<Statement, DbErr> {
    let shape = Shape {
        statement,
        postgres: backend == DbBackend::Postgres,
        counts,
    };
    let known = TEXTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&shape)
        .cloned();
    if let Some(text) = known {
        let mut all = values;
        all.extend(text.tail.iter().cloned());
        return Ok(Statement::from_sql_and_values(
            backend,
            text.sql.clone(),
            all,
        ));
    }
    let built = backend.build(&build(&values)?);
    let built_values = built.values.as_ref().map_or(&[][..], |v| v.0.as_slice());
    if built_values.starts_with(&values) {
        let mut texts = TEXTS.lock().unwrap_or_else(|p| p.into_inner());
        if texts.len() < MAX_SHAPES {
            let tail = built_values[values.len()..].to_vec();
            texts.insert(
                shape,
                Arc::new(Text {
                    sql: built.sql.clone(),
                    tail,
                }),
            );
        }
    }
    Ok(built)
}

/// A statement of two lists of values (two `IN` lists, most often), `first` used before
/// `second` in its text: [`statement`], with the lists' lengths as its shape, and `build`
/// given the two lists apart.
pub(super) fn two_lists<S: StatementBuilder>(
    backend: DbBackend,
    statement_name: &'static str,
    first: Vec<Value>,
    second: impl IntoIterator<Item = Value>,
    build: impl FnOnce(&[Value], &[Value]) -> Result<S, DbErr>,
) -> Result<Statement, DbErr> {
    let split = first.len();
    let mut values = first;
    values.extend(second);
    let counts = [split, values.len() - split];
    statement(backend, statement_name, counts, values, |values| {
        let (first, second) = values.split_at_checked(split).unwrap_or((values, &[]));
        build(first, second)
    })
}

/// A multi-row insert into `entity`'s `columns`, `values` a row after another, then
/// what `finish` adds (a conflict clause, what it returns): [`statement`] for the
/// batch's inserts, whose shape is their row count.
pub(super) fn insert<E: EntityTrait, const N: usize>(
    backend: DbBackend,
    name: &'static str,
    entity: E,
    columns: [E::Column; N],
    values: Vec<Value>,
    finish: impl FnOnce(&mut InsertStatement),
) -> Result<Statement, DbErr> {
    let rows = values.len() / N;
    statement(backend, name, [rows, 0], values, |values| {
        let mut insert = Query::insert();
        insert.into_table(entity).columns(columns);
        add_rows(&mut insert, values, N)?;
        finish(&mut insert);
        Ok(insert)
    })
}

/// Adds `values` to `insert` as rows of `columns` values each.
fn add_rows(insert: &mut InsertStatement, values: &[Value], columns: usize) -> Result<(), DbErr> {
    for row in values.chunks(columns) {
        insert
            .values(row.iter().cloned().map(Into::into))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    Ok(())
}

/// `values` as the statement's values, for comparing a statement with its fresh build.
#[cfg(test)]
fn values_of(statement: &Statement) -> &[Value] {
    statement.values.as_ref().map_or(&[], |v| v.0.as_slice())
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, OnConflict};

    use super::*;

    /// A two-column upsert with a constant in its conflict clause, as the batch's are.
    fn upsert(values: &[Value]) -> Result<InsertStatement, DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("t"))
            .columns([Alias::new("a"), Alias::new("b")]);
        add_rows(&mut insert, values, 2)?;
        insert.on_conflict(
            OnConflict::column(Alias::new("a"))
                .value(Alias::new("b"), Expr::col(Alias::new("b")).add(7))
                .to_owned(),
        );
        Ok(insert)
    }

    #[test]
    fn a_kept_text_gives_what_a_fresh_build_gives() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for rows in [1usize, 3] {
                for batch in 0..3i64 {
                    let values: Vec<Value> = (0..rows as i64 * 2)
                        .map(|v| Value::from(v * 10 + batch))
                        .collect();
                    let counts = [rows, 0];
                    let kept = statement(backend, "shapes test", counts, values.clone(), upsert)
                        .expect("built");
                    let fresh = backend.build(&upsert(&values).expect("built"));
                    assert_eq!(kept.sql, fresh.sql);
                    assert_eq!(values_of(&kept), values_of(&fresh));
                    // The conflict clause's constant comes after the rows' values.
                    assert_eq!(values_of(&kept).last(), Some(&Value::from(7i32)));
                }
            }
        }
    }

    #[test]
    fn two_lists_keep_a_text_per_pair_of_lengths() {
        use sea_orm::sea_query::{Cond, SelectStatement};
        let select = |a: &[Value], b: &[Value]| -> Result<SelectStatement, DbErr> {
            Ok(Query::select()
                .column(Alias::new("x"))
                .from(Alias::new("t"))
                .cond_where(
                    Cond::all()
                        .add(Expr::col(Alias::new("a")).is_in(a.iter().cloned()))
                        .add(Expr::col(Alias::new("b")).is_in(b.iter().cloned())),
                )
                .to_owned())
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for (a, b) in [(1i64, 2i64), (2, 1), (2, 2), (1, 2)] {
                let first: Vec<Value> = (0..a).map(Value::from).collect();
                let second: Vec<Value> = (10..10 + b).map(Value::from).collect();
                let kept = two_lists(
                    backend,
                    "two lists test",
                    first.clone(),
                    second.clone(),
                    select,
                )
                .expect("built");
                let fresh = backend.build(&select(&first, &second).expect("built"));
                assert_eq!(kept.sql, fresh.sql, "{a} and {b} values");
                assert_eq!(values_of(&kept), values_of(&fresh));
            }
        }
    }

    #[test]
    fn a_build_whose_values_do_not_start_with_the_batch_s_is_not_kept() {
        // The batch's values come second in this text: nothing may be reused.
        let swapped = |values: &[Value]| {
            let mut reversed = values.to_vec();
            reversed.reverse();
            upsert(&reversed)
        };
        for batch in 0..2i64 {
            let values = vec![Value::from(batch), Value::from(batch + 100)];
            let kept = statement(DbBackend::Sqlite, "shapes swapped", [1, 0], values, swapped)
                .expect("built");
            let mut expected = vec![Value::from(batch + 100), Value::from(batch)];
            expected.push(Value::from(7i32));
            assert_eq!(values_of(&kept), expected.as_slice());
        }
        let texts = TEXTS.lock().unwrap_or_else(|p| p.into_inner());
        let kept = texts.keys().any(|s| s.statement == "shapes swapped");
        assert!(!kept);
    }
}
