//! Times SQL queries over Parquet files: `qtime name=path ... -- "SQL" ...`.
use std::time::Instant;
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ctx = civhub_engine::session::new_context(Default::default());
    let mut sqls = Vec::new();
    let mut tables = true;
    for a in args {
        if a == "--" {
            tables = false;
            continue;
        }
        if tables {
            let (n, p) = a.split_once('=').unwrap();
            ctx.register_parquet(n, p, Default::default())
                .await
                .unwrap();
        } else {
            sqls.push(a);
        }
    }
    for s in sqls {
        let t = Instant::now();
        let b = ctx.sql(&s).await.unwrap().collect().await.unwrap();
        let rows: usize = b.iter().map(|b| b.num_rows()).sum();
        println!("{:>8.3}s {rows:>8} rows  {s}", t.elapsed().as_secs_f64());
    }
}
