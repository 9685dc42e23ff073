// A plain quadcopter frame: a centre plate, four hull arms, motor mounts and holes.
// 160 mm motor to motor (diagonal), 4 mm thick. Small $fn keeps the test quick.
$fn = 24;
motor_to_motor = 160;
thickness = 4;
arm_width = 14;
mount_radius = 14;
plate = 60;

module arm(angle) {
    rotate([0, 0, angle])
        hull() {
            cylinder(r = arm_width / 2, h = thickness);
            translate([motor_to_motor / 2, 0, 0]) cylinder(r = mount_radius, h = thickness);
        }
}

module motor_holes(angle) {
    rotate([0, 0, angle]) translate([motor_to_motor / 2, 0, -1]) {
        cylinder(r = 4, h = thickness + 2);
        for (a = [0 : 90 : 270])
            rotate([0, 0, a + 45]) translate([8, 0, 0]) cylinder(r = 1.6, h = thickness + 2);
    }
}

difference() {
    union() {
        translate([-plate / 2, -plate / 2, 0])
            hull() {
                for (x = [4, plate - 4], y = [4, plate - 4])
                    translate([x, y, 0]) cylinder(r = 4, h = thickness);
            }
        for (angle = [45 : 90 : 315]) arm(angle);
    }
    for (angle = [45 : 90 : 315]) motor_holes(angle);
    // stack mounting holes, 30.5 mm pattern, and a centre opening
    for (x = [-15.25, 15.25], y = [-15.25, 15.25])
        translate([x, y, -1]) cylinder(r = 1.6, h = thickness + 2);
    translate([0, 0, -1]) cylinder(r = 8, h = thickness + 2);
}
