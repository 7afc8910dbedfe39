use kysera::Conn;

#[kysera::transactional]
fn archive(conn: &Conn) {
    let _ = conn.batch_execute("DELETE FROM sessions");
}

fn main() {}
