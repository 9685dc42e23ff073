// Quadcopter frame: a flat centre plate with evenly spaced arms, one motor mount at
// the end of each arm, and the flight-controller stack's holes in the middle.
// One plate, cut in 2D and extruded, so it prints flat and renders quickly.

/* [Frame] */
// motor to motor, diagonal
motor_to_motor = 160; // [80:0.1:1000]
// plate and arm thickness
arm_thickness = 3; // [1.5:0.1:20]
// arm width
arm_width = 12; // [5:0.1:60]
// arms
arm_count = 4; // [3:1:8]

/* [Holes] */
// flight-controller stack hole spacing
stack_spacing = 30.5; // [16:0.1:45]
// stack hole diameter
stack_hole_diameter = 3.2; // [2:0.1:4.5]
// motor bolt pattern
motor_bolt_spacing = 16; // [9:0.1:30]
// motor bolt hole diameter
motor_hole_diameter = 3.2; // [1.5:0.1:4.5]

/* [Hidden] */
$fn = 48;

// forge:parts plate, arms
part = "all";  // what to draw: "all", or one of the parts named above

body_size = stack_spacing + 16;
arm_reach = motor_to_motor / 2;
motor_pad = motor_bolt_spacing + motor_hole_diameter + 6;

module arm_outline() {
    hull() {
        circle(d = arm_width);
        translate([arm_reach, 0]) circle(d = max(motor_pad, arm_width));
    }
}

module motor_holes() {
    circle(d = motor_bolt_spacing / 2);  // shaft and bearing clearance
    for (a = [45 : 90 : 359])
        rotate(a) translate([motor_bolt_spacing / 2, 0]) circle(d = motor_hole_diameter);
}

module stack_holes() {
    for (x = [-1, 1], y = [-1, 1])
        translate([x * stack_spacing / 2, y * stack_spacing / 2])
            circle(d = stack_hole_diameter);
}

module frame_outline() {
    difference() {
        union() {
            if (part == "all" || part == "plate")
                offset(r = 4) offset(delta = -4) square(body_size, center = true);
            if (part == "all" || part == "arms")
                for (i = [0 : 1 : arm_count - 1]) rotate(45 + i * 360 / arm_count) arm_outline();
        }
        stack_holes();
        for (i = [0 : 1 : arm_count - 1])
            rotate(45 + i * 360 / arm_count) translate([arm_reach, 0]) motor_holes();
    }
}

linear_extrude(height = arm_thickness) frame_outline();
