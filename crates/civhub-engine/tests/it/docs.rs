//! Every civhub function is documented, and its documented example is true.

use civhub_engine::functions;
use civhub_engine::session::{SessionSettings, new_context};

use crate::render;

#[tokio::test]
async fn every_example_gives_its_documented_result() {
    let ctx = new_context(SessionSettings::default());
    let mut wrong = Vec::new();
    for udf in functions::all() {
        let name = udf.name();
        let doc = udf
            .documentation()
            .unwrap_or_else(|| panic!("`{name}` has no docs"));
        assert!(!doc.description.is_empty(), "`{name}` has no description");
        assert!(
            doc.syntax_example.starts_with(&format!("{name}(")),
            "`{name}`: syntax `{}` does not name the function",
            doc.syntax_example
        );
        let example = doc.sql_example.as_deref().unwrap_or_default();
        let (sql, expected) = example
            .split_once(" -- ")
            .unwrap_or_else(|| panic!("`{name}`: example `{example}` lacks ` -- result`"));
        assert!(
            sql.contains(&format!("{name}(")),
            "`{name}`: example calls another function"
        );
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let rows = render::rows(&batches).unwrap();
        if rows != vec![vec![expected.trim().to_string()]] {
            wrong.push(format!(
                "{sql}\n  documented: {expected}\n  actual:     {rows:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "examples that are not true:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn information_schema_describes_the_functions() {
    let ctx = new_context(SessionSettings::default());
    let sql = "SELECT DISTINCT routine_name, description FROM information_schema.routines \
               WHERE routine_name = 'cn_id_valid'";
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let rows = render::rows(&batches).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0][1].contains("check character"), "{rows:?}");
}
