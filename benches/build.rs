fn main() {
    ktrdr_torchlink::emit();
}
