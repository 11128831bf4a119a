use switchyard_model::*;

#[test]
fn example_walkthrough() {
    let spec = Spec::parse(EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let key = EnvKey::new("whoami", "dev");
    let mut world = World::new();
    let ctx = Context { now: Timestamp(1_700_000_000), actor: Some("test".into()) };
    for req in [
        Request::Create,
        Request::Deploy { version: "v1.2.0".into() },
        Request::Promote { version: "v1.2.0".into(), share: 100 },
        Request::Deploy { version: "v1.3.0".into() },
        Request::Promote { version: "v1.3.0".into(), share: 10 },
    ] {
        let out = apply(&spec, &world, &key, &req, &ctx).unwrap();
        println!("{}\n{}", req.describe(), out.plan);
        world.insert(key.clone(), out.state);
    }
    let r = render::render_env(&spec, &world[&key]).unwrap();
    println!("{}", render::to_yaml(&r.config).unwrap());
}
