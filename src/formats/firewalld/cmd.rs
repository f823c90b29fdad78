pub struct State;
